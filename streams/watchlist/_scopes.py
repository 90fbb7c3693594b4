"""Evaluate a rule on an article's hits, per scope unit (article, paragraph, sentence, tokens)."""

from __future__ import annotations

import fnmatch
from bisect import bisect_right

from streams.watchlist._document import Doc, Hit
from streams.watchlist.compile import CompiledRule

__all__ = ["MAX_UNITS", "evaluate", "rule_applies"]

MAX_UNITS = 6


def rule_applies(rule: CompiledRule, doc: Doc) -> bool:
    """The rule's language and source filters admit the article."""
    if rule.languages and doc.lang not in rule.languages:
        return False
    if rule.sources:
        names = [n for n in (doc.source, doc.host) if n]
        if not any(fnmatch.fnmatchcase(n, pat) for n in names for pat in rule.sources):
            return False
    return True


def evaluate(rule: CompiledRule, doc: Doc, hits: dict[str, list[Hit]]) -> list[list[Hit]] | None:
    """Groups of hits (one group per satisfying scope unit), or None when the rule fails."""
    if any(not hits.get(c) for c in rule.all):
        return None
    if rule.any and not any(hits.get(c) for c in rule.any):
        return None
    if rule.scope == "article":
        if any(hits.get(c) for c in rule.none):
            return None
        group = [h for c in rule.all for h in hits[c][:3]]
        group += [h for c in rule.any for h in hits.get(c, [])[:3]]
        return [group]
    if rule.scope == "tokens":
        return _evaluate_tokens(rule, doc, hits)
    attr, starts = (
        ("sent", doc.sent_starts) if rule.scope == "sentence" else ("para", doc.para_starts)
    )
    units: dict[int, dict[str, Hit]] = {}
    for cond in rule.positive:
        for h in hits.get(cond, ()):
            u = getattr(h, attr)
            if u < 0:
                u = doc.unit_of(h.start, starts)
                setattr(h, attr, u)
            units.setdefault(u, {}).setdefault(cond, h)
    vetoed: set[int] = set()
    for cond in rule.none:
        for h in hits.get(cond, ()):
            vetoed.add(doc.unit_of(h.start, starts))
    groups = []
    for u in sorted(units):
        found = units[u]
        if u in vetoed or any(c not in found for c in rule.all):
            continue
        if rule.any and not any(c in found for c in rule.any):
            continue
        groups.append([found[c] for c in rule.positive if c in found])
        if len(groups) >= MAX_UNITS:
            break
    return groups or None


def _evaluate_tokens(
    rule: CompiledRule, doc: Doc, hits: dict[str, list[Hit]]
) -> list[list[Hit]] | None:
    n = rule.tokens
    positive = sorted(
        (h for c in rule.positive for h in hits.get(c, ())), key=lambda h: (h.start, h.cond)
    )
    for h in positive:
        h.tok = doc.token_index(h.start)
    vetoes = sorted(doc.token_index(h.start) for c in rule.none for h in hits.get(c, ()))
    groups: list[list[Hit]] = []
    i = 0
    while i < len(positive) and len(groups) < MAX_UNITS:
        t0 = positive[i].tok
        found: dict[str, Hit] = {}
        j = i
        while j < len(positive) and positive[j].tok < t0 + n:
            found.setdefault(positive[j].cond, positive[j])
            j += 1
        k = bisect_right(vetoes, t0 - 1)
        vetoed = k < len(vetoes) and vetoes[k] < t0 + n
        ok = all(c in found for c in rule.all) and (
            not rule.any or any(c in found for c in rule.any)
        )
        if ok and not vetoed:
            groups.append([found[c] for c in rule.positive if c in found])
            i = j
        else:
            i += 1
    return groups or None
