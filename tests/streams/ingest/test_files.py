"""Reading local sources: .txt, .html, JSONL files and folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.errors import IngestError
from streams.ingest.files import read_path
from streams.settings import SAMPLES_DIR


def test_txt_first_nonempty_line_is_title() -> None:
    """The seed article's title is its first non-empty line and the body keeps paragraphs."""
    (art,) = read_path(SAMPLES_DIR / "alibaba-liege-de.txt")
    assert art.title == "Belgien überwacht Chinas Alibaba wegen Spionagebedenken"
    assert "\n\n" in art.text and art.text.startswith("Nach Angaben")
    assert art.content_type == "text" and len(art.id) == 32


def test_html_title_and_body(tmp_path: Path) -> None:
    """An HTML file's <title> becomes the title; its main text is extracted at the edge."""
    page = tmp_path / "a.html"
    page.write_text(
        "<html><head><title>Spy &amp; Co</title></head><body><p>The body text.</p></body></html>"
    )
    (art,) = read_path(page)
    assert art.title == "Spy & Co" and art.content_type == "text"
    assert art.text == "The body text." and art.source == "a.html"


def test_jsonl_bad_line_names_file_line_col(tmp_path: Path) -> None:
    """A broken JSONL line is reported as file:line:col."""
    f = tmp_path / "in.jsonl"
    f.write_text('{"id":"1","title":"a","text":"b"}\n{"id": oops}\n')
    with pytest.raises(IngestError, match=r"in\.jsonl:2:\d+: not valid UTF-8 JSON"):
        list(read_path(f))


def test_jsonl_schema_violation_names_field(tmp_path: Path) -> None:
    """A JSONL article without text is reported with its line and the field."""
    f = tmp_path / "in.jsonl"
    f.write_text('{"id":"1","title":"a"}\n')
    with pytest.raises(IngestError, match=r"in\.jsonl:1:1: text: Field required"):
        list(read_path(f))


def test_folder_is_read_in_sorted_order(tmp_path: Path) -> None:
    """A folder yields its .txt/.html/.jsonl files in name order and skips others."""
    (tmp_path / "b.txt").write_text("B title\nbody b")
    (tmp_path / "a.txt").write_text("\n\nA title\nbody a")
    (tmp_path / "notes.md").write_text("ignored")
    assert [a.title for a in read_path(tmp_path)] == ["A title", "B title"]


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist gives an IngestError naming it."""
    with pytest.raises(IngestError, match="no such file"):
        list(read_path(tmp_path / "nope"))
