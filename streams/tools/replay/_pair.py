"""Match one enriched article against NEW and BASELINE in a single matcher pass.

``match_article`` prepares each article (normalised views, scope units) before scanning, and
that preparation is most of its cost; calling it once per watch-list would prepare every
article twice. ``PairMatcher`` instead compiles ONE watch-list holding both: every entity,
concept and rule id of NEW is prefixed ``n.``, of BASELINE ``b.`` (conditions rewritten to
match), so definitions that share an id but differ cannot mix. Rules are evaluated
independently of each other, so the combined result split by prefix is exactly what the two
lists give on their own (``test_replay_pair`` checks it on real articles); the prefixes are
removed and each match carries its own list's version again.

If the combined list cannot be built (an id too long for a prefix, say), it falls back to two
``match_article`` calls. Pure: no Kafka.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from schemas.records import EnrichedArticle, Match
from schemas.watchlist import Rule, Watchlist
from streams.watchlist.errors import WatchlistError

__all__ = ["BASE_PREFIX", "NEW_PREFIX", "PairMatcher", "combine_watchlists"]

NEW_PREFIX, BASE_PREFIX = "n.", "b."
_REFS = ("entity", "concept")

MatchFn = Callable[[Any, EnrichedArticle], list[Match]]


def _cond(condition: str, prefix: str) -> str:
    kind, _, rest = condition.partition(":")
    kind = kind.strip()
    return f"{kind}:{prefix}{rest.strip()}" if kind in _REFS else condition


def _strip_cond(condition: str) -> str:
    kind, sep, rest = condition.partition(":")
    if kind.strip() in _REFS and rest.startswith((NEW_PREFIX, BASE_PREFIX)):
        return f"{kind}{sep}{rest[len(NEW_PREFIX) :]}"
    return condition


def _namespaced(model: Watchlist, prefix: str) -> dict[str, Any]:
    rules = []
    for rule in model.rules:
        data = rule.model_dump()
        data["id"] = prefix + rule.id
        for key in ("all", "any", "none"):
            data[key] = [_cond(c, prefix) for c in data[key]]
        rules.append(Rule.model_validate(data))
    return {
        "entities": {prefix + k: v for k, v in model.entities.items()},
        "concepts": {prefix + k: v for k, v in model.concepts.items()},
        "rules": rules,
    }


def combine_watchlists(new: Any, baseline: Any) -> Any:
    """One compiled watch-list with NEW's ids under ``n.`` and BASELINE's under ``b.``."""
    from streams.watchlist import compile_watchlist

    a, b = _namespaced(new.model, NEW_PREFIX), _namespaced(baseline.model, BASE_PREFIX)
    model = Watchlist.model_validate(
        {
            "version": 1,
            "entities": {**a["entities"], **b["entities"]},
            "concepts": {**a["concepts"], **b["concepts"]},
            "rules": a["rules"] + b["rules"],
        }
    )
    return compile_watchlist(model)


class PairMatcher:
    """``pair(enriched) -> (NEW matches, BASELINE matches)``, one matcher pass per article."""

    def __init__(self, new: Any, baseline: Any, match: MatchFn) -> None:
        self.new = new
        self.baseline = baseline
        self.match = match
        self.combined: Any | None
        try:
            self.combined = combine_watchlists(new, baseline)
        except (ValidationError, ValueError, WatchlistError):
            self.combined = None  # e.g. an id too long for its prefix: two passes instead

    def __call__(self, enriched: EnrichedArticle) -> tuple[list[Match], list[Match]]:
        if self.combined is None:
            return self.match(self.new, enriched), self.match(self.baseline, enriched)
        new: list[Match] = []
        base: list[Match] = []
        for m in self.match(self.combined, enriched):
            is_new = m.rule_id.startswith(NEW_PREFIX)
            version = self.new.version if is_new else self.baseline.version
            evidence = [
                ev.model_copy(update={"condition": _strip_cond(ev.condition)}) for ev in m.evidence
            ]
            plain = m.model_copy(
                update={
                    "rule_id": m.rule_id[len(NEW_PREFIX) :],
                    "watchlist_version": version,
                    "evidence": evidence,
                    "entities": [e[len(NEW_PREFIX) :] for e in m.entities],
                }
            )
            (new if is_new else base).append(plain)
        return new, base
