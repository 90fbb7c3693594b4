"""Web pages at the ingest edge: legacy charsets, titles without site suffix, canonical URL.

Every page here is written for the test (invented outlets and text).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streams.enrich.boilerplate import load_boilerplate
from streams.enrich.clean import clean_article
from streams.ingest.files import read_path
from streams.ingest.pages import decode_bytes, page_metadata, strip_site_suffix

BODY_DE = (
    "<p>Die Behörde prüft seit Montag die Verträge des Händlers. Größere Änderungen "
    "würden nach Angaben des Ministeriums erst im Frühjahr erwartet, hieß es.</p>"
    "<p>Der Sprecher äußerte sich nicht zu weiteren Einzelheiten der Prüfung.</p>"
)
BODY_CS = (
    "<p>Úřad prověřuje smlouvy obchodníka. Žádné změny nejsou očekávány před jarem, "
    "řekl mluvčí ministerstva v pondělí ráno.</p><p>Další podrobnosti neuvedl.</p>"
)


def _page(head: str, body: str, *, title: str = "") -> str:
    head = f"<head>{head}<title>{title}</title></head>"
    return f"<html>{head}<body><article>{body}</article></body></html>"


@pytest.mark.parametrize(
    ("head", "encoding", "body"),
    [
        ('<meta charset="windows-1252">', "cp1252", BODY_DE),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=windows-1250">',
            "cp1250",
            BODY_CS,
        ),
        ('<meta charset="ISO-8859-2">', "iso8859_2", BODY_CS),
        ('<meta charset="iso-8859-1">', "latin-1", BODY_DE),
        ("", "cp1252", BODY_DE),  # nothing declared: detection
    ],
)
def test_legacy_charset_pages_are_read(tmp_path: Path, head: str, encoding: str, body: str) -> None:
    """Pages in windows-1252/1250 and ISO-8859-x are decoded, not refused as "not UTF-8"."""
    page = tmp_path / "page.html"
    title = "Prüfung der Verträge" if body is BODY_DE else "Úřad prověřuje smlouvy"
    page.write_bytes(_page(head, body, title=title).encode(encoding))
    (article,) = read_path(page)
    expected = "Größere Änderungen" if body is BODY_DE else "Žádné změny nejsou očekávány"
    assert expected in article.text and "\ufffd" not in article.text


def test_header_charset_and_bom_come_before_the_meta_tag() -> None:
    """The HTTP header charset beats a wrong ``<meta>``; a UTF-8 BOM beats both."""
    raw = _page('<meta charset="utf-8">', BODY_CS).encode("cp1250")
    text, used = decode_bytes(raw, header_charset="windows-1250")
    assert used == "cp1250" and "Úřad prověřuje" in text
    bom = b"\xef\xbb\xbf" + _page('<meta charset="windows-1252">', BODY_CS).encode()
    assert "Úřad prověřuje" in decode_bytes(bom, header_charset="windows-1250")[0]


@pytest.mark.parametrize(
    ("title", "kwargs", "expected"),
    [
        (
            "Ministerium prüft Verträge | ZEIT ONLINE",
            {"host": "www.zeit.de"},
            "Ministerium prüft Verträge",
        ),
        (
            "Ministerium prüft Verträge - DER SPIEGEL",
            {"site_names": ("DER SPIEGEL",)},
            "Ministerium prüft Verträge",
        ),
        (
            "Harbour deal collapses – The Daily Gull",
            {"host": "dailygull.example"},
            "Harbour deal collapses",
        ),
        ("Gull News - Harbour deal collapses", {"host": "gull.example"}, "Harbour deal collapses"),
        (
            "Harbour deal - what comes next",
            {"host": "gull.example"},
            "Harbour deal - what comes next",
        ),
    ],
)
def test_site_suffix_is_removed_only_when_it_names_the_site(
    title: str, kwargs: dict[str, object], expected: str
) -> None:
    """A trailing/leading "separator + site name" goes; a dash inside the headline stays."""
    assert strip_site_suffix(title, **kwargs) == expected  # type: ignore[arg-type]


def test_og_metadata_gives_title_canonical_url_and_source(tmp_path: Path) -> None:
    """og:title (suffix removed), og:url and og:site_name; the file name is not the source."""
    head = (
        '<meta property="og:title" content="Harbour deal collapses | The Daily Gull">'
        '<meta property="og:site_name" content="The Daily Gull">'
        '<meta property="og:url" content="https://dailygull.example/2024/harbour-deal">'
    )
    page = tmp_path / "saved-page-1234.html"
    body = (
        "<h1>Harbour deal collapses</h1>"
        "<p>The port authority ended talks on Friday after a long dispute.</p>"
    )
    page.write_text(_page(head, body, title="Harbour deal collapses | The Daily Gull"))
    (article,) = read_path(page)
    assert article.title == "Harbour deal collapses"
    assert article.url == "https://dailygull.example/2024/harbour-deal"
    assert article.source == "The Daily Gull"


def test_canonical_link_and_headline_element_without_og_tags() -> None:
    """Without og tags: ``<link rel=canonical>`` and the ``<h1>`` inside ``<article>``."""
    page = (
        '<html><head><title>Ignored | Gull</title><link rel="canonical" href="https://gull.example/a">'
        "</head><body><h1>Site banner</h1><article><h1>Storm closes harbour</h1><p>x</p></article>"
        "</body></html>"
    )
    meta = page_metadata(page)
    assert meta.url == "https://gull.example/a" and meta.title == "Storm closes harbour"


def test_headline_is_not_repeated_in_the_clean_text(tmp_path: Path) -> None:
    """With the suffix gone the title equals the body's first paragraph, which is dropped."""
    page = tmp_path / "p.html"
    body = (
        "<h1>Storm closes the harbour for three days</h1>"
        "<p>The harbour master said on Tuesday that no ship would leave before Friday, "
        "citing the forecast and damage to two of the piers.</p>"
        "<p>Fishermen said the closure came at the worst time of the season.</p>"
    )
    page.write_text(_page("", body, title="Storm closes the harbour for three days - Gull Daily"))
    (article,) = read_path(page)
    assert article.title == "Storm closes the harbour for three days"
    clean = clean_article(
        article.title,
        article.text,
        content_type=article.content_type,
        boilerplate=load_boilerplate(["en"]),
        max_chars=10_000,
    )
    assert clean.text.count("Storm closes the harbour") == 1


def test_plain_text_page_logs_no_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Normal input never logs at ERROR (no "empty HTML tree" for a text-only page)."""
    page = tmp_path / "t.html"
    page.write_text("<p>Just one short paragraph of text.</p>")
    with caplog.at_level(logging.WARNING):
        (article,) = read_path(page)
    assert article.text == "Just one short paragraph of text."
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
