"""Term hits of one article: the automaton scans, then language/mode filtering and offsets."""

from __future__ import annotations

from typing import Any

from streams.watchlist._document import Doc, Hit
from streams.watchlist.compile import CompiledWatchlist
from streams.watchlist.confusables import is_spoof
from streams.watchlist.elision import elided_hits
from streams.watchlist.langs import ANY, COMPOUND_LANGUAGES
from streams.watchlist.regex import ByteMap
from streams.watchlist.scripts import (
    MIN_VERBATIM_CHARS,
    NO_SPACE_SCRIPTS,
    script_of,
    text_scripts,
)
from streams.watchlist.terms import (
    IN_COMPOUNDING,
    IN_INFLECTING,
    IN_OTHERS,
    INFLECTING_LANGUAGES,
    MAX_NAME_ENDING,
    SKELETON,
)
from streams.watchlist.text import SENTINEL, is_word_char

__all__ = ["Raw", "collect", "find_elided", "materialize", "regex_hits"]

Raw = tuple[int, int, int, bool, tuple[Any, ...], frozenset[str]]


def collect(compiled: CompiledWatchlist, doc: Doc) -> tuple[list[Raw], set[int]]:
    """The hot loop: one automaton pass per view. Returns the raw results
    ``(view, end_index, length, widen, entries, conditions)`` and the rules anchored at the
    keys hit;
    nothing is filtered or mapped to the original text yet (most hits concern no
    candidate rule)."""
    rows: list[Raw] = []
    candidates: set[int] = set(compiled.always)
    if compiled.key_count == 0:
        return rows, candidates
    append = rows.append
    update = candidates.update
    for vi, scan in enumerate(doc.scans):
        for end_index, (length, entries, widen, anchored, conds) in compiled.automaton.iter(scan):
            append((vi, end_index, length, widen, entries, conds))
            if anchored:
                update(anchored)
    return rows, candidates


def materialize(doc: Doc, rows: list[Raw], relevant: set[str]) -> dict[str, list[Hit]]:
    """Hits of the ``relevant`` conditions whose language and mode apply, in original
    offsets, de-duplicated: the longest term names a span; a hit inside a longer hit of the
    same condition or inside an excluded false friend is dropped."""
    text = doc.text
    lang = doc.lang
    mode = IN_COMPOUNDING if lang in COMPOUND_LANGUAGES else IN_OTHERS
    inflecting = lang is None or lang in INFLECTING_LANGUAGES or not doc.confident
    out: list[tuple[str, int, int, int, str, str | None]] = []
    for vi, end_index, length, widen, entries, conds in rows:
        if relevant.isdisjoint(conds):
            continue
        span: tuple[int, int] | None = None
        exact: tuple[int, int] | None = None
        in_skeleton = vi == doc.skeleton
        for cond, raw, entity, labels, when, term_lang in entries:
            if (when == SKELETON) != in_skeleton:
                continue  # skeleton keys apply only to the skeleton view, and only they do
            if cond not in relevant or (when and when not in (SKELETON, IN_INFLECTING, mode)):
                continue
            if when == IN_INFLECTING and not inflecting:
                continue
            verbatim = False
            if lang is not None and term_lang is not None and term_lang != lang:
                gate = _gate(doc, raw, cond)
                if gate is None:
                    continue
                verbatim = gate
                if verbatim and vi > 0:
                    continue  # the lemma view holds lemmas of the detected language only
            if span is None:
                scan = doc.scans[vi]
                s = end_index - length + 1
                ns = s - scan.count(SENTINEL, 0, s)
                ne = ns + length - scan.count(SENTINEL, s, end_index + 1)
                if ne <= ns:
                    break
                exact = span = doc.views[vi].span(ns, ne)
                if widen:
                    span = _whole_word(text, *span)
            if verbatim and (exact is None or not _is_verbatim(raw, exact, span)):
                continue
            if when == IN_INFLECTING and not _is_name_ending(text, exact, span):
                continue
            if labels and doc.model_entities and not _has_label(doc, *span, labels):
                continue
            if in_skeleton and not is_spoof(text[span[0] : span[1]], raw, doc.native):
                continue  # a genuine word of another script, not a homoglyph spelling
            out.append((cond, span[0], -span[1], -length, raw, entity))
    out.sort()
    excluded: dict[str, list[tuple[int, int]]] = {}
    for cond, start, neg_end, _, _, _ in out:
        if cond[0] == "!":
            excluded.setdefault(cond[1:], []).append((start, -neg_end))
    hits: dict[str, list[Hit]] = {}
    last_cond, reach = "", -1
    for cond, start, neg_end, _, raw, entity in out:
        end = -neg_end
        if cond != last_cond:
            last_cond, reach = cond, -1
        if end <= reach or cond[0] == "!":
            continue  # same span (shorter term) or inside a longer hit ("Alibaba Group")
        ex = excluded.get(cond)
        if ex and any(s <= start and end <= e for s, e in ex):
            continue  # inside a false friend ("Protestanten" for protest)
        reach = end
        hits.setdefault(cond, []).append(Hit(cond, raw, start, end, entity))
    return hits


def _gate(doc: Doc, raw: str, cond: str) -> bool | None:
    """A term of another language than the article's: ``None`` = does not apply (its script
    does not occur in the article), ``False`` = applies in full (uncertain detection, or an
    exclusion), ``True`` = applies verbatim only."""
    script = script_of(raw.lstrip("=*"))
    if script is None:
        return False
    if doc.scripts is None:
        doc.scripts = text_scripts(doc.text)
    if script not in doc.scripts:
        return None
    if not doc.confident or cond[0] == "!" or script in NO_SPACE_SCRIPTS:
        return False
    return None if len(raw.strip("=* ")) < MIN_VERBATIM_CHARS else True


def _is_verbatim(raw: str, exact: tuple[int, int], word: tuple[int, int]) -> bool:
    """The hit is the whole word, or the declared prefix (``pre*``) of a word."""
    if exact == word:
        return True
    term = raw.strip()
    return term.endswith("*") and not term.lstrip("=").startswith("*") and exact[0] == word[0]


def find_elided(compiled: CompiledWatchlist, doc: Doc) -> dict[str, list[Hit]]:
    """Hits of full-compound terms written elided (see ``elision``), per condition."""
    langs = frozenset({doc.lang}) if doc.lang is not None and doc.confident else None
    out: dict[str, list[Hit]] = {}
    for cond, raw, start, end, entity in elided_hits(compiled.compound_terms, doc.views[0], langs):
        out.setdefault(cond, []).append(Hit(cond, raw, start, end, entity))
    return out


def _is_name_ending(text: str, exact: tuple[int, int] | None, word: tuple[int, int]) -> bool:
    """The word is the name plus a short lower-case case ending (``Huawei|hin``)."""
    if exact is None or exact[0] != word[0]:
        return False
    ending = text[exact[1] : word[1]]
    return 0 < len(ending) <= MAX_NAME_ENDING and ending.islower()


def regex_hits(compiled: CompiledWatchlist, doc: Doc, cond: str) -> list[Hit]:
    """Hits of the regex terms of ``cond`` whose language applies, in document offsets."""
    out = []
    view = doc.views[0]
    for pattern, rx in compiled.regexes.get(cond, ()):
        spec = pattern.spec
        if doc.lang is not None and spec.lang not in (ANY, doc.lang):
            continue
        if doc.bytemap is None:  # UTF-8 view for RE2, built once per article
            doc.bytemap = ByteMap(view.text)
        for start, end in rx.spans(view.text, doc.bytemap):
            s, e = view.span(start, end)
            out.append(Hit(cond, spec.raw, s, e, pattern.entity))
    return out


def _has_label(doc: Doc, start: int, end: int, labels: frozenset[str]) -> bool:
    return any(s < end and start < e and label in labels for s, e, label in doc.model_entities)


def _whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a hit inside a word (compound, wildcard) to the whole word, at most 40 chars."""
    s, e = start, end
    limit = max(0, start - 40)
    while s > limit and is_word_char(text[s - 1]):
        s -= 1
    limit = min(len(text), end + 40)
    while e < limit and is_word_char(text[e]):
        e += 1
    return s, e
