"""The alert facade: replay namespace, staleness, pruning by rule, lanes, reachability."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from alerts.config import PolicyConfig, RuleLimit
from alerts.service import (
    LANES,
    MEMO_SKEW_S,
    AlertDecider,
    Namespaced,
    lane_of,
    unreachable_channels,
)
from schemas.channels import CHANNEL_KINDS
from schemas.records import EnrichedArticle, Match

MakeE = Callable[..., EnrichedArticle]
MakeM = Callable[..., Match]


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _event(make_enriched: MakeE, make_match: MakeM, article_id: str, **kw: Any) -> EnrichedArticle:
    replayed = kw.pop("replayed", False)
    ingested_at = kw.pop("ingested_at", None)
    event = make_enriched(article_id, **kw)
    event.article.replayed = replayed
    event.article.ingested_at = ingested_at
    event.matches = [make_match(article_id, channels=["slack:#sec"])]
    return event


def test_namespaced_keys_keep_the_rule_prefix() -> None:
    """A namespaced key still starts with ``<rule>|`` and is invisible to the plain view."""
    state: dict[str, Any] = {"r1|s|x": {"t": 1}}
    view = Namespaced(state, "replay")
    view["r1|s|y"] = {"t": 2}
    assert "r1|replay|s|y" in state and "r1|s|y" not in state
    assert list(view) == ["r1|s|y"] and len(view) == 1
    del view["r1|s|y"]
    assert state == {"r1|s|x": {"t": 1}}


def test_replayed_copy_does_not_make_the_live_report_a_duplicate(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """Replay decides in its own namespace, routes to the test channel, leaves live state alone."""
    clock = Clock()
    state: dict[str, Any] = {}
    decider = AlertDecider(
        state,
        config=PolicyConfig(),
        test_channel="file:replayed",
        max_age_s=3600,
        clock=clock,
    )
    (replayed,) = decider.decide(_event(make_enriched, make_match, "r", replayed=True))
    assert replayed.action == "new" and replayed.alert is not None
    assert replayed.alert.channels == ["file:replayed"]
    assert all("|replay|" in key for key in state)
    (live,) = decider.decide(_event(make_enriched, make_match, "l"))  # same URL
    assert live.action == "new" and live.alert is not None
    assert live.alert.channels == ["slack:#sec"]


def test_replayed_matches_do_not_use_up_the_live_rule_limit(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """20 replayed alerts leave the live hourly limit of 20 untouched."""
    config = PolicyConfig(rule_limit=RuleLimit(max_alerts=20, window_s=3600))
    decider = AlertDecider(
        {}, config=config, test_channel="file:replayed", max_age_s=3600, clock=Clock()
    )
    for i in range(20):
        url = f"https://r.example/{i}"
        text = f"replayed story number {i} " * 20
        decider.decide(
            _event(make_enriched, make_match, f"r{i}", replayed=True, url=url, text=text)
        )
    (live,) = decider.decide(_event(make_enriched, make_match, "live"))
    assert live.action == "new"


def test_stale_events_are_not_decided(make_enriched: MakeE, make_match: MakeM) -> None:
    """An event ingested before the maximum age is ``stale`` and records no state."""
    clock = Clock()
    state: dict[str, Any] = {}
    decider = AlertDecider(
        state, config=PolicyConfig(), test_channel="file:x", max_age_s=60, clock=clock
    )
    (outcome,) = decider.decide(
        _event(make_enriched, make_match, "old", ingested_at=clock.now - 61)
    )
    assert outcome.action == "stale" and outcome.alert is None and state == {}


def test_old_state_expires_only_for_the_rule_being_processed(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """Deciding an event of rule A deletes A's state past retention, never rule B's."""
    clock = Clock()
    state: dict[str, Any] = {"other-rule|s|x": {"t": 0.0}}
    config = PolicyConfig(retention_s=100, default_window_s=50)
    decider = AlertDecider(state, config=config, test_channel="file:x", max_age_s=1e9, clock=clock)
    decider.decide(_event(make_enriched, make_match, "a1"))
    old = {k for k in state if k.startswith("alibaba-espionage|")}
    clock.now += 7 * 3600  # past retention and the 6 h window of the match
    decider.decide(
        _event(make_enriched, make_match, "a2", url="https://b.example/x", text="fresh " * 50)
    )
    mine = {k: v for k, v in state.items() if k.startswith("alibaba-espionage|")}
    assert old - set(mine)  # the first story's keys went
    assert all(float(v.get("t", clock.now)) >= clock.now - 7 * 3600 + 1 for v in mine.values())
    assert "other-rule|s|x" in state  # another rule's state waits for an event of that rule


def test_decision_memos_expire_after_the_maximum_alert_age_and_stories_stay(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """A memo is pruned once older than max age + skew margin; the story keeps its retention."""
    clock = Clock()
    state: dict[str, Any] = {}
    config = PolicyConfig(retention_s=3600, default_window_s=3600)
    decider = AlertDecider(
        state, config=config, test_channel="file:x", max_age_s=300, clock=clock, prune_every_s=1
    )
    (first,) = decider.decide(_event(make_enriched, make_match, "a1", ingested_at=clock.now))
    memo = next(k for k in state if k.startswith("alibaba-espionage|a|"))
    story = f"alibaba-espionage|s|{first.story_id}"
    clock.now += 300 + MEMO_SKEW_S - 1  # the memo is still young enough to serve a re-read
    (again,) = decider.decide(_event(make_enriched, make_match, "a1", ingested_at=clock.now - 1))
    assert again.action == "new" and memo in state
    clock.now += 2  # now older than the maximum age plus the margin
    decider.decide(
        _event(
            make_enriched,
            make_match,
            "a2",
            ingested_at=clock.now,
            url="https://b.example/x",
            text="fresh " * 50,
        )
    )
    assert memo not in state and story in state


def test_old_event_after_its_memo_expired_is_stale_not_decided_again(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """The event a pruned memo served is older than the maximum age when read again: stale."""
    clock = Clock()
    state: dict[str, Any] = {}
    decider = AlertDecider(
        state, config=PolicyConfig(), test_channel="file:x", max_age_s=300, clock=clock
    )
    ingested = clock.now
    decider.decide(_event(make_enriched, make_match, "a1", ingested_at=ingested))
    clock.now += 300 + MEMO_SKEW_S + 1
    (outcome,) = decider.decide(_event(make_enriched, make_match, "a1", ingested_at=ingested))
    assert outcome.action == "stale"


def test_lanes_cover_every_channel_kind_once() -> None:
    """Each channel kind belongs to exactly one delivery lane."""
    assert sorted(k for kinds in LANES.values() for k in kinds) == sorted(CHANNEL_KINDS)
    assert lane_of("slack") == "slack" and lane_of("digest") == "email"
    assert lane_of("webhook") == "local"


def test_unreachable_channels_name_the_missing_setting() -> None:
    """Rules naming kinds this worker lacks come back with the setting that enables them."""
    rules = {"r1": ("slack:#a", "file"), "r2": ("email:x@example.org",), "r3": ("webhook",)}
    missing = unreachable_channels(rules, {"file", "console"})
    assert missing == [
        ("r1", "slack:#a", "SLACK_BOT_TOKEN"),
        ("r2", "email:x@example.org", "SMTP_HOST"),
        ("r3", "webhook", "NEWSWATCH_WEBHOOK_URL"),
    ]
