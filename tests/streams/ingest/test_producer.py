"""`newswatch ingest` on the real broker: keys are article ids, each id once per run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from streams.kafka.broker import EmbeddedBroker
from streams.settings import SAMPLES_DIR, Settings
from streams.testing import read_topic, settings_env

pytestmark = pytest.mark.broker


def test_ingest_folder_and_jsonl_once_per_id(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Samples folder + a JSONL repeating one id: every id produced once, keyed by the id."""
    settings = make_settings(broker)
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        '{"id": "j1", "title": "One", "text": "first"}\n'
        '{"id": "j1", "title": "One again", "text": "same id"}\n'
        '{"id": "j2", "title": "Two", "text": "second", "language": "en"}\n'
    )
    env = {**settings_env(settings), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(SAMPLES_DIR), str(jsonl)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    samples = len(list(SAMPLES_DIR.glob("*.txt")))
    assert f"produced {samples + 2} article(s)" in result.stderr
    assert "1 duplicate id(s) skipped" in result.stderr
    records = read_topic(
        broker.bootstrap_servers, settings.topic("articles.raw"), expect=samples + 2, timeout=30
    )
    assert len(records) == samples + 2
    assert all(r["key"].decode() == r["value"]["id"] for r in records)
    assert all(r["value"]["ingested_at"] > 0 for r in records)


def test_ingest_bad_jsonl_is_a_one_line_error(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A broken JSONL line exits 1 with file:line:col and no traceback."""
    settings = make_settings(broker)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "title": "t", "text": "x"}\n{nope\n')
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(bad)],
        env={**settings_env(settings), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{bad}:2:" in result.stderr and "Traceback" not in result.stderr


def _ingest(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", *args],
        env={**settings_env(settings), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def _big_page() -> str:
    script = "var cfg = {" + ",".join(f'"k{i}": "{i:08d}"' for i in range(60_000)) + "};"
    style = ".c{color:red}" * 20_000
    paragraphs = "".join(
        f"<p>Paragraph {i}: the harbour authority of Gullport reviewed contract {i} on Monday "
        "and said no ship would be delayed by the review.</p>"
        for i in range(40)
    )
    return (
        f"<html><head><title>Gullport review - Gull Daily</title><style>{style}</style>"
        f"<script>{script}</script></head><body><article><h1>Gullport review</h1>"
        f"{paragraphs}</article><script>{script}</script></body></html>"
    )


def test_one_large_page_or_bad_file_never_stops_the_folder(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A 1.1 MB+ page, a 2.5 MB text and a Latin-1 JSONL line: the rest is produced, exit 1."""
    settings = make_settings(broker)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "01-small.html").write_text(
        "<html><head><title>Small</title></head>"
        "<body><p>A small page about ships.</p></body></html>"
    )
    big = _big_page()
    assert len(big.encode()) > 2_000_000
    (folder / "02-big.html").write_text(big)
    latin1 = '{"id":"m","title":"Müller","text":"x"}'.encode("latin-1")
    (folder / "03-lines.jsonl").write_bytes(
        b'{"id":"j1","title":"One","text":"first"}\n'
        + latin1
        + b'\n{"id":"j2","title":"Two","text":"second"}\n'
    )
    (folder / "04-huge.txt").write_text(
        "Huge report\n\n" + "\n\n".join(f"Section {i}. " + "word " * 400 for i in range(1_300))
    )
    (folder / "05-after.txt").write_text("After\n\nThe last file is still produced.")
    result = _ingest(settings, str(folder))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{folder / '03-lines.jsonl'}:2:21: not valid UTF-8 JSON" in result.stderr
    assert "produced 6 article(s)" in result.stderr
    records = read_topic(broker.bootstrap_servers, settings.topic("articles.raw"), expect=6)
    by_title = {r["value"]["title"]: r for r in records}
    assert set(by_title) == {"Small", "Gullport review", "One", "Two", "Huge report", "After"}
    page = by_title["Gullport review"]["value"]
    assert "Paragraph 39: the harbour authority" in page["text"] and "var cfg" not in page["text"]
    huge = by_title["Huge report"]["value"]
    assert huge["text"].startswith("Section 0.") and len(huge["text"]) < 1_000_000
    sizes = [len(orjson.dumps(r["value"])) for r in records]
    assert max(sizes) <= settings.max_record_bytes


def test_one_shot_ingest_whose_every_source_failed_exits_1(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings]
) -> None:
    """A refused feed URL is reported once, without "next try in", and the exit code is 1."""
    settings = make_settings(broker)
    result = _ingest(settings, "http://127.0.0.1:9/feed.xml")
    assert result.returncode == 1, result.stderr
    assert "http://127.0.0.1:9/feed.xml: loopback" in result.stderr
    assert "next try in" not in result.stderr and "produced 0 article(s)" in result.stderr
