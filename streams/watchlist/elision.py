"""Elided compounds: ``Spionage- oder Einmischungsaktivitäten`` holds ``Spionageaktivitäten``.

German, Dutch and the Scandinavian languages shorten coordinated compounds that share a head
(or a modifier): the first word keeps only its modifier and a hyphen. A watch-list term
written as the full compound (``Spionageaktivitäten``) then never occurs as one word. This
module finds each elided word (``A-`` before a conjunction, a comma or another elided word)
and its completing word ``C`` and reports a compound term ``T`` when ``T = P + H`` with
``A`` ending in ``P`` and ``H`` ending ``C`` (the shared head, plus at most three letters of
inflection), both parts at least ``MIN_PART`` letters. The hit spans from ``A`` to ``C``.
Cheap: articles without ``"- "`` or ``"-,"`` are not scanned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from streams.watchlist.langs import ANY, COMPOUND_LANGUAGES, canonical_language
from streams.watchlist.terms import MIN_COMPOUND_CHARS, TermSpec
from streams.watchlist.text import NormText

__all__ = ["MIN_PART", "CompoundTerm", "compound_terms", "elided_hits"]

#: Shortest modifier or head of a split compound term.
MIN_PART = 3
_ELIDED = re.compile(r"(\w+)-(?=[ ,])")
_WORD = re.compile(r"[\w-]+")
_GLUE = frozenset(
    {"und", "oder", "bzw", "sowie", "wie", "noch", "weder", "als", "auch", "en", "of", "tot"}
    | {"and", "or", "och", "eller", "samt", "og"}
)


@dataclass(frozen=True, slots=True)
class CompoundTerm:
    """A term that may occur elided: its condition, raw form, key and language."""

    cond: str
    raw: str
    key: str
    lang: str | None
    entity: str | None


def compound_terms(patterns: list[tuple[str, TermSpec, str | None]]) -> tuple[CompoundTerm, ...]:
    """The terms of compounding languages long enough to be written elided."""
    out: dict[tuple[str, str], CompoundTerm] = {}
    for cond, spec, entity in patterns:
        lang = spec.lang
        if cond.startswith("!") or spec.regex is not None or spec.whole_word or spec.name:
            continue
        if lang != ANY and lang not in COMPOUND_LANGUAGES:
            continue
        key = spec.key
        if len(key) < max(MIN_COMPOUND_CHARS, 2 * MIN_PART) or " " in key or "-" in key:
            continue
        term_lang = None if lang == ANY else canonical_language(lang)
        out.setdefault((cond, key), CompoundTerm(cond, spec.raw, key, term_lang, entity))
    return tuple(out.values())


def elided_hits(
    terms: tuple[CompoundTerm, ...], view: NormText, langs: frozenset[str] | None
) -> list[tuple[str, str, int, int, str | None]]:
    """``(cond, raw, start, end, entity)`` per elided occurrence of a term in ``view``
    (offsets in the original text); ``langs`` = term languages that apply (None = all)."""
    text = view.text
    if not terms or ("- " not in text and "-," not in text):
        return []
    out = []
    for m in _ELIDED.finditer(text):
        first = m.group(1)
        completion = None
        for w in _WORD.finditer(text, m.end(), min(len(text), m.end() + 120)):
            word = w.group(0)
            if word.endswith("-") or word in _GLUE:
                continue
            completion = w
            break
        if completion is None:
            continue
        last = completion.group(0)
        for term in terms:
            if langs is not None and term.lang is not None and term.lang not in langs:
                continue
            key = term.key
            for cut in range(MIN_PART, len(key) - MIN_PART + 1):
                head = last.find(key[cut:], 1)
                tail = len(last) - head - (len(key) - cut)  # inflection after the shared head
                if head > 0 and tail <= 3 and first.endswith(key[:cut]):
                    start, end = view.span(m.start(1), completion.end())
                    out.append((term.cond, term.raw, start, end, term.entity))
                    break
    return out
