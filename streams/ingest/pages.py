"""Web pages and HTML fragments at the ingest edge: decoding, metadata, plain text.

- :func:`decode_bytes`: bytes → text by BOM, the HTTP header charset, ``<meta charset>`` /
  ``http-equiv``, strict UTF-8, then detection (charset-normalizer); never "not UTF-8".
- :func:`page_metadata`: title (``og:title`` / the headline element / ``<title>``, with a
  trailing "| Site" suffix removed), canonical URL (``og:url`` / ``<link rel=canonical>``)
  and site name (``og:site_name`` / ``application-name``).
- :func:`fragment_to_text`: a short HTML fragment (a feed summary) as plain text paragraphs,
  without a page extractor (which returns nothing for fragments and logs an ERROR for text).
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PageMeta", "decode_bytes", "fragment_to_text", "page_metadata", "strip_site_suffix"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,500}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I
)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""")
#: WHATWG: these labels mean windows-1252 in HTML.
_AS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii", "cp819"}


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _AS_1252:
        name = "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(
    raw: bytes, *, header_charset: str | None = None, markup: bool = True
) -> tuple[str, str]:
    """Text and the encoding used; a wrong declaration falls through to the next clue."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return raw.decode(name, errors="replace"), name
    head = raw[:4096]
    declared = [_codec(header_charset)]
    if markup:
        found = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
        declared.append(_codec(found.group(1).decode("ascii")) if found else None)
    for label in [*declared, "utf-8"]:
        if label is None:
            continue
        try:
            return raw.decode(label), label
        except (UnicodeDecodeError, LookupError):
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:200_000]).best()
    guess = (_codec(best.encoding) if best is not None else None) or "cp1252"
    return raw.decode(guess, errors="replace"), guess


_DROP = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK = re.compile(
    r"</?(?:p|div|br|li|ul|ol|h[1-6]|blockquote|tr|table|section|article|pre|figure|"
    r"figcaption|header|footer|dd|dt|dl|hr)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LOOKS_HTML = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^>]*)?/?>")


def fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, one paragraph per block (blank-line separated)."""
    if not _LOOKS_HTML.search(fragment):
        return html_lib.unescape(fragment).strip() if "&" in fragment else fragment.strip()
    text = _COMMENT.sub(" ", fragment)
    text = _DROP.sub(" ", text)
    text = _BLOCK.sub("\n\n", text)
    text = html_lib.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    paragraphs = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)


# --------------------------------------------------------------------------- metadata

_SEPARATORS = ("|", " - ", " – ", " — ", " :: ", " · ", " » ", " / ")


@dataclass(frozen=True)
class PageMeta:
    """What a page says about itself (every field may be missing)."""

    title: str | None = None
    url: str | None = None
    site_name: str | None = None


def _squash(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def strip_site_suffix(title: str, *, site_names: tuple[str, ...] = (), host: str = "") -> str:
    """``title`` without a trailing "separator + site name" (or leading "site + separator").

    The site name is known from ``site_names`` (``og:site_name`` ...), or it is the last
    segment when that segment contains the host's main label (``zeit`` in "ZEIT ONLINE").
    """
    title = " ".join(title.split())
    known = {_squash(n) for n in site_names if _squash(n)}
    label = _host_label(host)
    for sep in _SEPARATORS:
        head, found, tail = title.rpartition(sep)
        if found and head.strip() and _is_site(tail, known, label):
            return head.strip()
        first, found, rest = title.partition(sep)
        if found and rest.strip() and _is_site(first, known, label):
            return rest.strip()
    return title


def _is_site(segment: str, known: set[str], label: str) -> bool:
    squashed = _squash(segment)
    if not squashed or len(segment.split()) > 6:
        return False
    return squashed in known or (len(label) >= 3 and label in squashed)


def _host_label(host: str) -> str:
    parts = [p for p in host.lower().split(".") if p and p not in ("www", "m", "amp")]
    if len(parts) >= 2:
        parts = parts[:-1]
        if len(parts) >= 2 and parts[-1] in ("co", "com", "org", "net", "gov", "ac"):
            parts = parts[:-1]
    return _squash(parts[-1]) if parts else ""


def _meta(tree: Any, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            for value in tree.xpath(f'//meta[@{attr}="{name}"]/@content'):
                text = " ".join(str(value).split())
                if text:
                    return text
    return None


def _text_of(tree: Any, path: str) -> str | None:
    for node in tree.xpath(path):
        text = " ".join(node.text_content().split())
        if text:
            return text
    return None


def page_metadata(page: str, *, host: str = "") -> PageMeta:
    """Title (site suffix removed), canonical URL and site name of an HTML page."""
    import lxml.html
    from lxml.etree import ParserError

    try:
        tree = lxml.html.document_fromstring(page.encode("utf-8", "surrogatepass"))
    except (ParserError, ValueError):
        return PageMeta()
    site = _meta(tree, "og:site_name", "application-name", "twitter:site")
    site = site.lstrip("@") if site else None
    url = _meta(tree, "og:url") or next(
        (str(h).strip() for h in tree.xpath('//link[@rel="canonical"]/@href') if str(h).strip()),
        None,
    )
    if url and not url.lower().startswith(("http://", "https://")):
        url = None
    host = host or (re.sub(r"^https?://", "", url or "").split("/")[0])
    candidates = [
        _meta(tree, "og:title", "twitter:title", "headline"),
        _text_of(tree, "//article//h1") or _text_of(tree, "//h1"),
        _text_of(tree, "//title"),
    ]
    title = next((c for c in candidates if c), None)
    if title:
        title = strip_site_suffix(title, site_names=(site,) if site else (), host=host)
    return PageMeta(title=title or None, url=url, site_name=site)
