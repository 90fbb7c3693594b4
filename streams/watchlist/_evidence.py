"""Turn the hits of a fired rule into a ``Match`` with located, snippeted evidence."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.records import Evidence, Match
from streams.watchlist._document import Doc, Hit
from streams.watchlist.compile import CompiledRule, CompiledWatchlist

__all__ = ["MAX_EVIDENCE", "SNIPPET_CHARS", "build_match"]

#: Evidence kept per match (the first satisfying scope units, one hit per condition each).
MAX_EVIDENCE = 24
SNIPPET_CHARS = 400


def _evidence(doc: Doc, hit: Hit) -> Evidence:
    if hit.start < doc.offset:  # in the title
        source, start, end = doc.title, hit.start, min(hit.end, len(doc.title))
        sentence = paragraph = -1
        snippet_span = (0, len(doc.title))
    else:
        source, start, end = doc.body, hit.start - doc.offset, hit.end - doc.offset
        k = doc.unit_of(hit.start, doc.sent_starts)
        s_start, s_end, sentence = doc.sents[k] if doc.sents else (hit.start, hit.end, -1)
        paragraph = doc.sent_para[k] if doc.sents else -1
        if not (s_start <= hit.start < max(s_end, s_start + 1)):
            sentence, s_start, s_end = -1, hit.start, hit.end
            paragraph = doc.paras[doc.unit_of(hit.start, doc.para_starts)][2] if doc.paras else -1
        snippet_span = (s_start - doc.offset, s_end - doc.offset)
    return Evidence(
        condition=hit.cond,
        term=hit.term,
        surface=source[start:end],
        start=start,
        end=end,
        sentence=sentence,
        paragraph=paragraph,
        snippet=_snippet(source, snippet_span, start, end),
    )


def _snippet(source: str, span: tuple[int, int], start: int, end: int) -> str:
    s, e = span
    if e - s > SNIPPET_CHARS:
        half = (SNIPPET_CHARS - (end - start)) // 2
        s = max(s, start - max(half, 0))
        e = min(e, s + SNIPPET_CHARS)
        text = source[s:e]
        text = ("… " if s > span[0] else "") + text + (" …" if e < span[1] else "")
    else:
        text = source[s:e]
    return " ".join(text.split())


def build_match(
    compiled: CompiledWatchlist,
    rule: CompiledRule,
    doc: Doc,
    article_id: str,
    groups: Iterable[list[Hit]],
) -> Match:
    """The ``Match`` of ``rule``: evidence of its groups (at most ``MAX_EVIDENCE``), entities."""
    evidence: list[Evidence] = []
    seen: set[tuple[str, int, int]] = set()
    entities: set[str] = set()
    for group in groups:
        for h in group:
            key = (h.cond, h.start, h.end)
            if key in seen or len(evidence) >= MAX_EVIDENCE:
                continue
            seen.add(key)
            evidence.append(_evidence(doc, h))
            if h.entity:
                entities.add(h.entity)
    return Match(
        rule_id=rule.id,
        rule_title=rule.title,
        severity=rule.severity,  # type: ignore[arg-type]
        article_id=article_id,
        watchlist_version=compiled.version,
        channels=list(rule.channels),
        throttle_window_s=rule.throttle_window_s,
        group_by=list(rule.group_by),  # type: ignore[arg-type]
        evidence=evidence,
        entities=sorted(entities),
    )
