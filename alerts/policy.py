"""Alert policy: story grouping, per-rule throttle, realert window and severity routing.

``AlertPolicy.decide(enriched, match)`` turns one (article, rule) match into a
:class:`Decision`. All state lives in the ``state`` mapping given to the constructor: a
Faust Table in the worker (changelog-backed, survives restarts and rebalances), a dict in
tests and offline tools. Values are plain JSON (dicts, lists, str, numbers); a value is
always replaced, never mutated in place, so a Faust table sees every write.

Every key starts with ``<rule_id>|``: route all matches of one rule to one partition
(key the stream by ``rule_id``) and each worker sees all the state it needs.

    <rule>|a|<article>   the decision already taken for this article (a match event read
                         again is idempotent; kept for the maximum alert age)
    <rule>|s|<story>     story: first/last seen, alert id, sources, MinHash signature (packed)
    <rule>|u|<url>       canonical URL → story
    <rule>|m|<band>      MinHash LSH band → candidate stories: ``[t, story, …]`` (a list, not
                         a dict: 16 per story, so the smaller shape matters)
    <rule>|e|<entities>  matched entity set → story (rules with ``group_by: [.., entities]``)
    <rule>|rate          times of the rule's recent new alerts (throttle)

Grouping, as the rule's ``group_by`` allows (``Match.group_by``; default ``[url, text]``):
same canonical URL, else near-duplicate clean text (MinHash Jaccard ≥ ``near_duplicate``),
else — only for rules that opt in with ``entities`` — the same set of matched entities
within the window. A later report from a new source is an ``update`` of the story's alert
(same ``alert_id``) that carries the *new* article (its title, link and evidence) and the
story's first report in ``related``; the same outlet again is a ``duplicate``; after the
story's window a report alerts anew.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from alerts._similarity import band_keys, jaccard, pack_signature, signature, unpack_signature
from alerts._urls import canonical_url, source_key
from alerts.config import PolicyConfig
from alerts.ids import alert_id_for, delivery_key
from alerts.ids import short_hash as _h
from schemas.records import AlertRecord, ArticleRef, EnrichedArticle, Match

__all__ = ["Action", "AlertPolicy", "Decision", "alert_id_for", "delivery_key", "touched_at"]

log = logging.getLogger(__name__)

Action = Literal["new", "update", "throttled", "duplicate"]
_M = TypeVar("_M", bound=BaseModel)
_MAX_LIST = 200
_MAX_BAND_STORIES = 8


@dataclass(frozen=True)
class Decision:
    """What the policy decided for one match.

    ``alert`` is set for ``new`` and ``update``: hand it to ``Deliverer.deliver``.
    ``repeat`` is True when this article was decided before (a replay after a restart);
    the alert is the same record, and the deliverer skips channels already sent.
    """

    action: Action
    alert: AlertRecord | None
    story_id: str
    reason: str
    similarity: float | None = None
    repeat: bool = False


class AlertPolicy:
    """Decides new / update / throttled / duplicate for each match; state in a mapping."""

    def __init__(
        self,
        state: MutableMapping[str, Any],
        clock: Callable[[], float] = time.time,
        config: PolicyConfig | None = None,
    ) -> None:
        self.state = state
        self.clock = clock
        self.config = config or PolicyConfig()
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ public
    def decide(self, enriched: EnrichedArticle, match: Match) -> Decision:
        """Decide what one match becomes; records the decision in the state mapping."""
        rule = match.rule_id
        article = enriched.article
        now = self.clock()
        window = match.throttle_window_s or self.config.default_window_s
        memo_key = f"{rule}|a|{_h(article.id, 24)}"
        memo = self._get(memo_key)
        if memo is not None:
            self.stats["repeat"] += 1
            alert = _stored(AlertRecord, memo.get("alert"))
            return Decision(memo["action"], alert, memo["story"], "repeat", repeat=True)

        canon = canonical_url(article.url)
        sig = signature(enriched.clean_text)
        story, reason, sim = self._find_story(rule, canon, sig, match, now, window)

        if story is None:
            story = self._new_story(rule, article, canon or article.id, now, sig)
            decision = self._try_new(story, enriched, match, now, "new")
        else:
            source = source_key(article.source, article.url)
            if reason == "url" or (source is not None and source in story["sources"]):
                decision = Decision("duplicate", None, story["id"], reason, sim)
            elif story.get("alerted_at") is None:
                decision = self._try_new(story, enriched, match, now, reason)
            elif now - story["alerted_at"] > window:
                story = self._new_story(rule, article, canon or article.id, now, sig)
                decision = self._try_new(story, enriched, match, now, "realert")
            elif story["updates"] >= self.config.max_updates_per_story:
                decision = Decision("throttled", None, story["id"], "max updates per story", sim)
            else:
                decision = self._update(story, enriched, match, now, reason, sim)

        # The decision first: state writes reach the changelog in order, so after a crash
        # in the middle of them a replay finds this memo (and re-delivers from it) rather
        # than a half-recorded story that makes the article look like a duplicate.
        self.state[memo_key] = {
            "t": now,
            "action": decision.action,
            "story": decision.story_id,
            "alert": decision.alert.model_dump_json() if decision.alert else None,
        }
        self._record(rule, story, article, canon, sig, match, now)
        self.stats[decision.action] += 1
        return decision

    def prune(
        self, now: float | None = None, *, rule: str | None = None, window_s: float = 0.0
    ) -> int:
        """Delete state untouched for ``retention_s`` (at least ``window_s``); only ``rule``'s.

        In the worker call it with the rule of the event being processed: its keys start with
        ``<rule>|`` and live on the event's partition, so Faust writes the deletes (tombstones)
        to the right changelog partition.
        """
        now = self.clock() if now is None else now
        horizon = now - max(self.config.retention_s, window_s)
        prefix = None if rule is None else f"{rule}|"
        stale = [
            key
            for key, value in list(self.state.items())
            if isinstance(key, str)
            and "|" in key
            and (prefix is None or key.startswith(prefix))
            and (touched := touched_at(value)) is not None
            and touched < horizon
        ]
        for key in stale:
            del self.state[key]
        return len(stale)

    # ------------------------------------------------------------------ grouping
    def _find_story(
        self,
        rule: str,
        canon: str | None,
        sig: list[int] | None,
        match: Match,
        now: float,
        window: float,
    ) -> tuple[dict[str, Any] | None, str, float | None]:
        by = set(match.group_by)
        if canon and "url" in by:
            entry = self._get(f"{rule}|u|{_h(canon)}")
            story = self._story(rule, entry.get("s")) if entry else None
            if story:
                return story, "url", None
        if sig and "text" in by:
            best: tuple[float, dict[str, Any]] | None = None
            seen: set[str] = set()
            for band in band_keys(sig):
                for sid in self._band(f"{rule}|m|{band}"):
                    if sid in seen:
                        continue
                    seen.add(sid)
                    story = self._story(rule, sid)
                    other = unpack_signature(story.get("sig")) if story else None
                    if story and other:
                        sim = jaccard(sig, other)
                        if sim >= self.config.near_duplicate and (best is None or sim > best[0]):
                            best = (sim, story)
            if best:
                return best[1], "near-duplicate", best[0]
        if _by_entities(match, self.config.group_by_entities):
            entry = self._get(f"{rule}|e|{_entity_key(match)}")
            story = self._story(rule, entry.get("s")) if entry else None
            if story and now - float(story["t"]) <= window:
                return story, "entities", None
        return None, "new", None

    def _new_story(
        self, rule: str, article: ArticleRef, seed: str, now: float, sig: list[int] | None
    ) -> dict[str, Any]:
        sid = _h(f"{rule}|{seed}|{now!r}", 20)
        return {
            "id": sid,
            "t": now,
            "first": now,
            "alerted_at": None,
            "alert_id": alert_id_for(rule, sid),
            "head": article.model_dump_json(),
            "articles": [],
            "sources": [],
            "updates": 0,
            "sig": pack_signature(sig) if sig else None,
        }

    def _record(
        self,
        rule: str,
        story: dict[str, Any],
        article: ArticleRef,
        canon: str | None,
        sig: list[int] | None,
        match: Match,
        now: float,
    ) -> None:
        sid = story["id"]
        story = dict(story, t=now)
        story["articles"] = [*story["articles"], article.id][-_MAX_LIST:]
        source = source_key(article.source, article.url)
        if source and source not in story["sources"]:
            story["sources"] = [*story["sources"], source][-_MAX_LIST:]
        self.state[f"{rule}|s|{sid}"] = story
        by = set(match.group_by)
        if canon and "url" in by:
            self.state[f"{rule}|u|{_h(canon)}"] = {"s": sid, "t": now}
        if sig and "text" in by:
            for band in band_keys(sig):
                key = f"{rule}|m|{band}"
                sids = [s for s in self._band(key) if s != sid]
                self.state[key] = [now, *[*sids, sid][-_MAX_BAND_STORIES:]]
        if _by_entities(match, self.config.group_by_entities):
            self.state[f"{rule}|e|{_entity_key(match)}"] = {"s": sid, "t": now}

    # ------------------------------------------------------------------ outcomes
    def _try_new(
        self,
        story: dict[str, Any],
        enriched: EnrichedArticle,
        match: Match,
        now: float,
        reason: str,
    ) -> Decision:
        rule = match.rule_id
        limit = self.config.rule_limits.get(rule, self.config.rule_limit)
        rate_key = f"{rule}|rate"
        entry = self._get(rate_key)
        recent = [t for t in (entry.get("sent", []) if entry else []) if now - t < limit.window_s]
        if len(recent) >= limit.max_alerts:
            self.state[rate_key] = {"t": now, "sent": recent}
            return Decision("throttled", None, story["id"], "rule limit")
        self.state[rate_key] = {"t": now, "sent": [*recent, now]}
        story["alerted_at"] = now
        story["updates"] = 0
        story["head"] = enriched.article.model_dump_json()
        alert = self._alert("new", story, enriched, match, now, related=[])
        return Decision("new", alert, story["id"], reason)

    def _update(
        self,
        story: dict[str, Any],
        enriched: EnrichedArticle,
        match: Match,
        now: float,
        reason: str,
        sim: float | None,
    ) -> Decision:
        story["updates"] = int(story["updates"]) + 1
        # the update names the NEW report (title, source, link, its evidence); the story's
        # first report goes in ``related`` for context (a thread reply in Slack)
        first = _stored(ArticleRef, story["head"])
        assert first is not None, "a story always has its head article"
        alert = self._alert("update", story, enriched, match, now, related=[first])
        return Decision("update", alert, story["id"], reason, sim)

    def _alert(
        self,
        kind: Literal["new", "update"],
        story: dict[str, Any],
        enriched: EnrichedArticle,
        match: Match,
        now: float,
        *,
        related: list[ArticleRef],
    ) -> AlertRecord:
        """The one place an ``AlertRecord`` is built (new alerts and updates)."""
        return AlertRecord(
            alert_id=story["alert_id"],
            kind=kind,
            rule_id=match.rule_id,
            rule_title=match.rule_title,
            severity=match.severity,
            story_id=story["id"],
            article=enriched.article,
            evidence=match.evidence[: self.config.max_evidence],
            related=related,
            channels=self._route(match, kind),
            watchlist_version=match.watchlist_version or enriched.watchlist_version,
            created_at=now,
            ingested_at=enriched.article.ingested_at,
        )

    def _route(self, match: Match, kind: str) -> list[str]:
        specs = list(match.channels) or list(self.config.routing.get(match.severity, []))
        specs += self.config.extra_channels
        if kind == "update":  # email readers get updates in the next digest, not one by one
            specs = [
                "digest" + s[len("email") :] if s.split(":", 1)[0] == "email" else s for s in specs
            ]
        return list(dict.fromkeys(s.strip() for s in specs if s.strip()))

    # ------------------------------------------------------------------ state access
    def _get(self, key: str) -> dict[str, Any] | None:
        value = self.state.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            log.warning("alert policy: ignoring malformed state value for key %r", key)
            return None
        return value

    def _band(self, key: str) -> list[str]:
        """The stories of one LSH band: ``[t, story, …]`` or, as written before, a dict."""
        value = self.state.get(key)
        if isinstance(value, list):
            return [s for s in value[1:] if isinstance(s, str)]
        if isinstance(value, dict) and isinstance(value.get("s"), list):
            return [s for s in value["s"] if isinstance(s, str)]
        if value is not None:
            log.warning("alert policy: ignoring malformed state value for key %r", key)
        return []

    def _story(self, rule: str, sid: Any) -> dict[str, Any] | None:
        if not isinstance(sid, str):
            return None
        story = self._get(f"{rule}|s|{sid}")
        if story is None or "id" not in story:
            return None
        return dict(story)


def touched_at(value: Any) -> float | None:
    """When a state value was last written: a dict's ``t`` or a list's first item (band
    entries); None for a value that carries no time (never expired by age)."""
    if isinstance(value, dict):
        stamp = value.get("t")
    elif isinstance(value, list) and value:
        stamp = value[0]
    else:
        return None
    return float(stamp) if isinstance(stamp, (int, float)) else None


def _stored(model: type[_M], value: Any) -> _M | None:
    """A record kept in the state: a JSON string (≈ a third of the memory of the same record
    as nested dicts), or a dict (state written before records were kept as strings)."""
    if isinstance(value, str):
        return model.model_validate_json(value)
    if isinstance(value, dict):
        return model.model_validate(value)
    return None


def _by_entities(match: Match, allowed: bool) -> bool:
    """Whether this match groups by its entity set (the rule opted in, entities matched)."""
    return allowed and "entities" in match.group_by and bool(match.entities)


def _entity_key(match: Match) -> str:
    return _h("\x00".join(sorted(set(match.entities))))
