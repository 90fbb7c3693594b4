"""The alert facade: what the pipeline calls with a match event, and the deliver entry point.

Two halves, each owned by one agent of the worker (and usable with dicts in tools and tests):

``AlertDecider.decide(event)``
    one match event (``articles.matches``) → one :class:`Outcome` per match: stale (older
    than ``max_age_s`` by its ingested time: nothing is decided or recorded), or the policy's
    new / update / throttled / duplicate, or ``silenced`` when a story mute or rule snooze
    (:class:`alerts.silences.SilenceBook`) holds the alert back: the alert is recorded (with
    ``silenced_by``) but has no delivery work. Replayed articles are decided in their own state
    namespace (``<rule>|replay|…``) and routed to the test channel only, so they never change
    live alerting.
``AlertSender.deliver(alert, lane)``
    one alert (``alerts``) → the channels of one lane. Lanes split the channel kinds so that a
    slow or rate-limited channel delays only its own lane; the sent-state makes redelivery
    idempotent per channel spec.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from alerts.config import PolicyConfig
from alerts.deliver import Deliverer, DeliveryReport
from alerts.policy import AlertPolicy, touched_at
from alerts.silences import SilenceBook
from schemas.channels import CHANNEL_KINDS, SpecSyntaxError, parse_channel_spec
from schemas.records import AlertRecord, EnrichedArticle
from schemas.topics import LANE_NAMES

__all__ = [
    "LANES",
    "MEMO_SKEW_S",
    "AlertDecider",
    "AlertSender",
    "Namespaced",
    "Outcome",
    "OutcomeAction",
    "lane_of",
    "unreachable_channels",
]

log = logging.getLogger(__name__)

#: How much longer than the maximum alert age a decision memo is kept (clock skew margin).
MEMO_SKEW_S = 60.0

OutcomeAction = Literal["new", "update", "throttled", "duplicate", "stale", "failed", "silenced"]

#: Delivery lanes: one deliver agent each. Slack's 429 pauses stay in the Slack lane; email
#: (SMTP, digests) has its own; the quick local and webhook channels share one.
LANES: dict[str, tuple[str, ...]] = {
    "slack": ("slack",),
    "email": ("email", "digest"),
    "local": ("console", "file", "webhook"),
}
assert sorted(k for kinds in LANES.values() for k in kinds) == sorted(CHANNEL_KINDS)
assert tuple(LANES) == LANE_NAMES

#: The setting that makes each channel kind reachable (for ``/ready`` and ``watchlist check``).
CHANNEL_SETTING = {
    "console": "NEWSWATCH_ALERT_CHANNELS (add 'console')",
    "file": "NEWSWATCH_ALERT_CHANNELS (add 'file')",
    "webhook": "NEWSWATCH_WEBHOOK_URL",
    "slack": "SLACK_BOT_TOKEN",
    "email": "SMTP_HOST",
    "digest": "SMTP_HOST",
}


def lane_of(kind: str) -> str:
    """The delivery lane of a channel kind."""
    for lane, kinds in LANES.items():
        if kind in kinds:
            return lane
    return "local"


@dataclass(frozen=True)
class Outcome:
    """What became of one (article, rule) match; ``alert`` is set for new, update, silenced."""

    rule_id: str
    action: OutcomeAction
    alert: AlertRecord | None
    channels: tuple[str, ...]
    reason: str = ""
    replayed: bool = False
    age_s: float | None = None
    story_id: str | None = None


class Namespaced(MutableMapping[str, Any]):
    """A view of a state mapping whose keys ``<rule>|rest`` live as ``<rule>|<ns>|rest``.

    Keeps the ``<rule>|`` prefix, so namespaced keys stay on their rule's partition.
    """

    def __init__(self, state: MutableMapping[str, Any], namespace: str) -> None:
        self.state = state
        self.namespace = namespace

    def _key(self, key: str) -> str:
        rule, sep, rest = key.partition("|")
        return f"{rule}|{self.namespace}|{rest}" if sep else f"{self.namespace}|{key}"

    def _unkey(self, key: Any) -> str | None:
        if not isinstance(key, str):
            return None
        rule, _, rest = key.partition("|")
        ns, sep, tail = rest.partition("|")
        return f"{rule}|{tail}" if sep and ns == self.namespace else None

    def __getitem__(self, key: str) -> Any:
        return self.state[self._key(key)]

    def __setitem__(self, key: str, value: Any) -> None:
        self.state[self._key(key)] = value

    def __delitem__(self, key: str) -> None:
        del self.state[self._key(key)]

    def __iter__(self) -> Iterator[str]:
        for key in list(self.state.keys()):
            plain = self._unkey(key)
            if plain is not None:
                yield plain

    def __len__(self) -> int:
        return sum(1 for _ in self)


class AlertDecider:
    """Decides every match of one event: stale check, live or replay policy, routing."""

    def __init__(
        self,
        state: MutableMapping[str, Any],
        *,
        config: PolicyConfig,
        test_channel: str,
        max_age_s: float,
        clock: Callable[[], float] = time.time,
        prune_every_s: float = 60.0,
        silences: SilenceBook | None = None,
    ) -> None:
        self.clock = clock
        self.silences = silences
        self.test_channel = test_channel
        self.max_age_s = max_age_s
        self.live = AlertPolicy(state, clock=clock, config=config)
        replay_config = config.model_copy(update={"extra_channels": [], "routing": {}})
        self.replay = AlertPolicy(Namespaced(state, "replay"), clock=clock, config=replay_config)
        self.prune_every_s = prune_every_s
        #: a decision memo (``<rule>|a|…``) only serves a match event read again while it is
        #: still fresh: an older one is stale and never reaches the policy. Kept ``max_age_s``
        #: plus a minute for clock skew between the ingesting host and this one.
        self.memo_retention_s = max_age_s + MEMO_SKEW_S
        self._pruned_at: dict[int, float] = {}
        self._candidates: dict[int, dict[str, list[str]]] = {}

    def decide(
        self, event: EnrichedArticle, *, fallback_time: float | None = None
    ) -> list[Outcome]:
        """One outcome per match of ``event`` (raises only for a policy bug)."""
        now = self.clock()
        article = event.article
        ingested = article.ingested_at if article.ingested_at is not None else fallback_time
        age = None if ingested is None else max(0.0, now - ingested)
        outcomes: list[Outcome] = []
        for match in event.matches:
            channels = tuple(match.channels)
            if age is not None and age > self.max_age_s:
                log.info(
                    "stale match of rule %s (article %s, %.0fs old > %.0fs): not alerted",
                    match.rule_id,
                    article.id,
                    age,
                    self.max_age_s,
                )
                outcomes.append(
                    Outcome(
                        match.rule_id, "stale", None, channels, "max age", article.replayed, age
                    )
                )
                continue
            if article.replayed:
                routed = match.model_copy(update={"channels": [self.test_channel]})
                decision = self.replay.decide(event, routed)
                policy = self.replay
            else:
                decision = self.live.decide(event, match)
                policy = self.live
            self._maybe_prune(policy, match.rule_id, match.throttle_window_s or 0.0, now)
            action: OutcomeAction = decision.action
            alert, reason = decision.alert, decision.reason
            silence = None
            if alert is not None and not article.replayed and self.silences is not None:
                silence = self.silences.match(alert.rule_id, alert.story_id, now)
            if alert is not None and silence is not None:
                log.info(
                    "alert %s of rule %s silenced by %s (%s until %.0f)",
                    alert.alert_id,
                    alert.rule_id,
                    silence.id,
                    silence.kind,
                    silence.ends_at,
                )
                action, reason = "silenced", f"{silence.kind} silence {silence.id}"
                alert = alert.model_copy(update={"silenced_by": silence.id})
            outcomes.append(
                Outcome(
                    match.rule_id,
                    action,
                    alert,
                    channels,
                    reason,
                    article.replayed,
                    age,
                    story_id=decision.story_id,
                )
            )
        return outcomes

    def _maybe_prune(self, policy: AlertPolicy, rule: str, window_s: float, now: float) -> None:
        """Expire the rule's old state while processing an event of that rule.

        The whole state is scanned at most once per ``prune_every_s`` (candidates grouped by
        rule); each event then deletes only its own rule's candidates that are still old, so
        the deletes (Faust tombstones) go to that rule's changelog partition.
        """
        key = id(policy)
        if now - self._pruned_at.get(key, float("-inf")) >= self.prune_every_s:
            self._pruned_at[key] = now
            self._candidates[key] = _old_keys_by_rule(policy, now, self.memo_retention_s)
        keys = self._candidates.get(key, {}).pop(rule, [])
        horizon = now - max(policy.config.retention_s, window_s)
        memo_horizon = now - min(self.memo_retention_s, max(policy.config.retention_s, window_s))
        removed = 0
        for state_key in keys:
            value = policy.state.get(state_key)
            limit = memo_horizon if _is_memo(state_key) else horizon
            touched = touched_at(value)
            if touched is not None and touched < limit:
                del policy.state[state_key]
                removed += 1
        if removed:
            log.debug("expired %d state entries of rule %s", removed, rule)


def _is_memo(key: str) -> bool:
    """Whether a state key is a decision memo: ``<rule>|a|…`` (or ``<rule>|<ns>|a|…``)."""
    parts = key.split("|", 3)
    return len(parts) > 2 and (parts[1] == "a" or (len(parts) > 3 and parts[2] == "a"))


def _old_keys_by_rule(policy: AlertPolicy, now: float, memo_s: float) -> dict[str, list[str]]:
    """State keys untouched for the configured retention (memos: ``memo_s``), by rule prefix."""
    horizon = now - policy.config.retention_s
    memo_horizon = now - min(memo_s, policy.config.retention_s)
    found: dict[str, list[str]] = {}
    for key, value in list(policy.state.items()):
        touched = touched_at(value)
        if not isinstance(key, str) or "|" not in key or touched is None:
            continue
        limit = memo_horizon if _is_memo(key) else horizon
        if touched < limit:
            found.setdefault(key.split("|", 1)[0], []).append(key)
    return found


class AlertSender:
    """Delivers alerts lane by lane through one ``Deliverer``; stale alerts are not sent."""

    def __init__(
        self,
        deliverer: Deliverer,
        *,
        max_age_s: float,
        retention_s: float | None = None,
        prune_every_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.deliverer = deliverer
        self.max_age_s = max_age_s
        #: sent records live this long (at least ``max_age_s``: a redelivered alert younger
        #: than that must still find its record; stories' threads need theirs for updates)
        self.retention_s = max(retention_s or 0.0, max_age_s)
        self.prune_every_s = prune_every_s
        self.clock = clock
        self._pruned_at: dict[tuple[str, int], float] = {}

    def maybe_prune(self, lane: str, partition: int, owns: Callable[[str], bool]) -> int:
        """Expire old sent records of alerts on ``partition`` (at most once a minute per lane
        and partition); ``owns(alert_id)`` says which alerts hash to that partition."""
        now = self.clock()
        if now - self._pruned_at.get((lane, partition), float("-inf")) < self.prune_every_s:
            return 0
        self._pruned_at[(lane, partition)] = now
        return self.deliverer.prune_sent(owns, now - self.retention_s)

    def is_stale(self, alert: AlertRecord) -> bool:
        """True when the alert's article entered the pipeline longer than ``max_age_s`` ago."""
        since = alert.ingested_at if alert.ingested_at is not None else alert.created_at
        return self.clock() - since > self.max_age_s

    def lanes_of(self, alert: AlertRecord) -> set[str]:
        """The lanes an alert has work in (unknown kinds go to ``local``: it dead-letters them)."""
        lanes = set()
        for raw in alert.channels:
            try:
                lanes.add(lane_of(parse_channel_spec(raw).kind))
            except SpecSyntaxError:
                lanes.add("local")
        return lanes

    async def deliver(self, alert: AlertRecord, lane: str) -> DeliveryReport:
        """Deliver ``alert`` to the channels of ``lane`` (unknown specs: the local lane)."""
        kinds = set(LANES[lane])
        if lane == "local":  # invalid specs are dead-lettered once, by the local lane
            kinds |= {s.split(":", 1)[0].strip().lower() for s in alert.channels} - set(
                CHANNEL_KINDS
            )
        return await self.deliverer.deliver(alert, kinds=kinds)


def unreachable_channels(
    rules: Mapping[str, tuple[str, ...]], configured: set[str]
) -> list[tuple[str, str, str]]:
    """``(rule, channel, missing setting)`` for every channel a rule names but cannot reach."""
    missing: list[tuple[str, str, str]] = []
    for rule, specs in rules.items():
        for raw in specs:
            try:
                kind = parse_channel_spec(raw).kind
            except SpecSyntaxError:
                continue  # the watch-list loader rejects bad specs
            if kind not in configured:
                missing.append((rule, raw, CHANNEL_SETTING[kind]))
    return missing
