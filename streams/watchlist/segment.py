"""Naive paragraph and sentence splitting, for matching text that was not enriched.

Paragraphs are blocks separated by blank lines; sentences end at ``.``, ``!``, ``?``, ``…``
followed by whitespace, or at ``。！？`` (no space needed). Good enough for scoping rules when
the spaCy stage has not run (``newswatch match`` on plain JSONL, tests, the lead's wiring);
the enrichment stage supplies real sentence boundaries.
"""

from __future__ import annotations

import re

from schemas.records import Sentence, Span

__all__ = ["split_paragraphs", "split_sentences", "tokens"]

_PARA_BREAK = re.compile(r"\n[ \t\r\f\v\u00a0]*\n\s*")
_SENT_END = re.compile(r"(?:[.!?…]+[\"'”’»)\]]*(?=\s)|[。！？]+[”’」』）]*)")
_TOKEN = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]+"
)


def split_paragraphs(text: str) -> list[Span]:
    """Spans of the non-blank blocks of ``text`` (whitespace around them excluded)."""
    spans: list[Span] = []
    last = 0
    for m in _PARA_BREAK.finditer(text):
        _add_trimmed(spans, text, last, m.start())
        last = m.end()
    _add_trimmed(spans, text, last, len(text))
    return spans


def split_sentences(text: str, paragraphs: list[Span]) -> list[Sentence]:
    """Sentences inside each paragraph, each tagged with its paragraph index."""
    out: list[Sentence] = []
    for p_index, para in enumerate(paragraphs):
        start = para.start
        for m in _SENT_END.finditer(text, para.start, para.end):
            end = m.end()
            if text[start:end].strip():
                _add_sentence(out, text, start, end, p_index)
            start = end
        if start < para.end and text[start : para.end].strip():
            _add_sentence(out, text, start, para.end, p_index)
    return out


def tokens(text: str) -> list[int]:
    """Start offsets of word tokens (a CJK character is one token)."""
    return [m.start() for m in _TOKEN.finditer(text)]


def _add_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append(Span(start=start, end=end))


def _add_sentence(out: list[Sentence], text: str, start: int, end: int, paragraph: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start=start, end=end, paragraph=paragraph))
