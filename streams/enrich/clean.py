"""Cleaning: HTML main-text extraction, boilerplate removal, normalisation, paragraphs.

The clean text is the title (when not empty) as paragraph 0, then the body paragraphs,
joined by ``"\\n\\n"``. Inside a paragraph there is no line break and no double space, so
character offsets are stable and a paragraph is exactly ``text[start:end]``.

Paragraphs of a text body are blocks separated by blank lines (lines inside a block are
re-flowed with a space); a body without any blank line has one paragraph per line. HTML
bodies go through trafilatura, whose output has one paragraph per line. A first body
paragraph that repeats the title is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from streams.enrich.boilerplate import TEASER_MAX_LINES, BoilerplateFilter, is_headline_like
from streams.enrich.normalize import normalize_inline, split_lines

__all__ = ["PARAGRAPH_SEPARATOR", "CleanText", "clean_article", "html_to_text"]

PARAGRAPH_SEPARATOR = "\n\n"

#: Raw HTML beyond this multiple of ``max_chars`` is not even parsed.
_HTML_CUT_FACTOR = 8


@dataclass(frozen=True, slots=True)
class CleanText:
    """Clean text and paragraph spans; ``title_paragraph``: paragraph 0 is the title."""

    text: str
    paragraphs: list[tuple[int, int]] = field(default_factory=list)
    title_paragraph: bool = False
    original_chars: int = 0
    truncated: bool = False
    removed_lines: int = 0


def html_to_text(html: str) -> str:
    """Main text of an HTML page via trafilatura (one paragraph per line); '' if none found."""
    import trafilatura

    extracted = trafilatura.extract(
        html,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        favor_recall=True,
    )
    if extracted:
        return str(extracted)
    fallback = trafilatura.html2txt(html)
    return str(fallback or "")


def _body_paragraphs(
    body: str, boilerplate: BoilerplateFilter, one_per_line: bool
) -> tuple[list[str], int]:
    lines = split_lines(body)
    if not one_per_line:
        one_per_line = all(line.strip() for line in lines)
    paragraphs: list[str] = []
    block: list[str] = []
    removed = 0
    teasers = 0  # headline-like lines still to drop after a teaser-list heading
    for raw in lines:
        line = normalize_inline(raw)
        if not line:
            if block:
                paragraphs.append(" ".join(block))
                block = []
            continue
        if teasers and is_headline_like(line):
            teasers -= 1
            removed += 1
            continue
        teasers = 0
        if boilerplate.is_boilerplate(line, normalized=True):
            removed += 1
            if boilerplate.starts_teaser_list(line, normalized=True):
                teasers = TEASER_MAX_LINES
            continue
        if one_per_line:
            paragraphs.append(line)
        else:
            block.append(line)
    if block:
        paragraphs.append(" ".join(block))
    return paragraphs, removed


def _truncate(paragraphs: list[str], max_chars: int) -> list[str]:
    """Keep whole paragraphs up to ``max_chars``; cut the last one at a word boundary."""
    kept: list[str] = []
    used = 0
    for para in paragraphs:
        sep = len(PARAGRAPH_SEPARATOR) if kept else 0
        room = max_chars - used - sep
        if len(para) <= room:
            kept.append(para)
            used += sep + len(para)
            continue
        if room > 0:
            cut = para[:room]
            space = cut.rfind(" ")
            if space > room // 2:
                cut = cut[:space]
            cut = cut.rstrip()
            if cut:
                kept.append(cut)
        break
    return kept


def clean_article(
    title: str,
    body: str,
    *,
    content_type: str = "text",
    boilerplate: BoilerplateFilter,
    max_chars: int,
) -> CleanText:
    """Clean one article; the result never exceeds ``max_chars`` (``truncated`` says so)."""
    if content_type == "html":
        body = html_to_text(body[: max_chars * _HTML_CUT_FACTOR])
        one_per_line = True
    else:
        one_per_line = False
    clean_title = normalize_inline(" ".join(split_lines(title)))
    body_paras, removed = _body_paragraphs(body, boilerplate, one_per_line)
    if clean_title and body_paras and body_paras[0].casefold() == clean_title.casefold():
        body_paras.pop(0)
    paragraphs = [clean_title, *body_paras] if clean_title else body_paras
    original = sum(map(len, paragraphs)) + len(PARAGRAPH_SEPARATOR) * max(len(paragraphs) - 1, 0)
    truncated = original > max_chars
    if truncated:
        paragraphs = _truncate(paragraphs, max_chars)
    spans: list[tuple[int, int]] = []
    pos = 0
    for para in paragraphs:
        spans.append((pos, pos + len(para)))
        pos += len(para) + len(PARAGRAPH_SEPARATOR)
    return CleanText(
        text=PARAGRAPH_SEPARATOR.join(paragraphs),
        paragraphs=spans,
        title_paragraph=bool(clean_title) and bool(paragraphs),
        original_chars=original,
        truncated=truncated,
        removed_lines=removed,
    )
