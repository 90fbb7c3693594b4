"""Story grouping, throttling, realert window, routing and idempotent replays."""

from __future__ import annotations

import json
from collections.abc import Callable

from alerts._similarity import pack_signature, signature, unpack_signature
from alerts.config import PolicyConfig, RuleLimit
from alerts.ids import alert_id_for
from alerts.policy import AlertPolicy, touched_at
from schemas.records import EnrichedArticle, Match
from tests.alerts.conftest import OTHER_STORY, STORY

MakeE = Callable[..., EnrichedArticle]
MakeM = Callable[..., Match]


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _second_outlet(make_enriched: MakeE, article_id: str = "b1", **kw: object) -> EnrichedArticle:
    text = "Agency report. " + STORY.replace("Thursday", "Friday") + " Read more on our site."
    return make_enriched(
        article_id,
        text=text,
        url=kw.get("url", "https://news-two.example/2024/belgium-alibaba"),
        source=kw.get("source", "News Two"),
        title="Belgian spies watch Alibaba logistics centre",
    )


def test_two_outlets_copies_become_one_alert_and_one_update(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """The second outlet's near-duplicate updates the first alert (same alert id)."""
    policy = AlertPolicy({}, clock=Clock())
    first = policy.decide(make_enriched("a1"), make_match("a1"))
    second = policy.decide(_second_outlet(make_enriched), make_match("b1", entities=[]))
    assert first.action == "new" and first.alert is not None
    assert second.action == "update" and second.alert is not None
    assert second.reason == "near-duplicate" and (second.similarity or 0) >= 0.7
    assert second.alert.alert_id == first.alert.alert_id
    assert second.alert.article.id == "b1"  # the update names the new report
    assert [r.id for r in second.alert.related] == ["a1"]  # the story's first report
    assert first.alert.alert_id == alert_id_for("alibaba-espionage", first.story_id)


def test_same_outlet_again_and_same_url_are_duplicates(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """A second copy from the same outlet, or the same canonical URL, sends nothing."""
    policy = AlertPolicy({}, clock=Clock())
    policy.decide(make_enriched("a1"), make_match("a1"))
    same_url = make_enriched(
        "a1-v2", text=OTHER_STORY, url="http://www.news-one.example/world/alibaba-liege/?utm_x=1"
    )
    same_outlet = _second_outlet(make_enriched, "a1-copy", source="News One", url=None)
    d1 = policy.decide(same_url, make_match("a1-v2"))
    d2 = policy.decide(same_outlet, make_match("a1-copy"))
    assert (d1.action, d1.reason, d1.alert) == ("duplicate", "url", None)
    assert (d2.action, d2.alert) == ("duplicate", None)


def test_same_entities_group_only_within_the_window(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """With ``group_by: [.., entities]`` a different text with the same entity set joins the
    story inside the window."""
    clock = Clock()
    policy = AlertPolicy({}, clock=clock)
    by = ["url", "text", "entities"]
    first = policy.decide(make_enriched("a1"), make_match("a1", window=3600, group_by=by))
    clock.now += 600
    other = make_enriched("c1", text=OTHER_STORY, url="https://c.example/1", source="C")
    grouped = policy.decide(other, make_match("c1", window=3600, group_by=by))
    assert grouped.action == "update" and grouped.reason == "entities"
    assert grouped.story_id == first.story_id
    clock.now += 7200
    later = make_enriched("d1", text=OTHER_STORY + " Update.", url="https://d.example/", source="D")
    fresh = policy.decide(later, make_match("d1", window=3600, entities=["alibaba"], group_by=by))
    assert fresh.action == "new" and fresh.story_id != first.story_id


def test_realert_after_the_story_window_gets_a_new_alert_id(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """After the realert window, a new outlet's report of the story alerts again."""
    clock = Clock()
    policy = AlertPolicy({}, clock=clock)
    first = policy.decide(make_enriched("a1"), make_match("a1", window=60))
    clock.now += 120
    again = policy.decide(_second_outlet(make_enriched), make_match("b1", window=60))
    assert again.action == "new" and again.reason == "realert"
    assert again.alert is not None and first.alert is not None
    assert again.alert.alert_id != first.alert.alert_id


def test_rule_throttle_limits_new_alerts_per_window(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """With max 2 alerts per hour, the third distinct story is throttled, later allowed."""
    clock = Clock()
    config = PolicyConfig(rule_limits={"alibaba-espionage": RuleLimit(max_alerts=2, window_s=3600)})
    policy = AlertPolicy({}, clock=clock, config=config)
    texts = [STORY, OTHER_STORY, " ".join(f"token{i}" for i in range(80))]
    actions = []
    for i, text in enumerate(texts):
        art = make_enriched(f"s{i}", text=text, url=f"https://s{i}.example/", source=f"S{i}")
        actions.append(policy.decide(art, make_match(f"s{i}", entities=[f"e{i}"])).action)
    assert actions == ["new", "new", "throttled"]
    clock.now += 3601
    art = make_enriched("s9", text="fresh words " * 40, url="https://s9.example/", source="S9")
    assert policy.decide(art, make_match("s9", entities=["e9"])).action == "new"


def test_updates_per_story_are_capped(make_enriched: MakeE, make_match: MakeM) -> None:
    """Beyond ``max_updates_per_story`` new sources are throttled, not posted."""
    policy = AlertPolicy({}, clock=Clock(), config=PolicyConfig(max_updates_per_story=1))
    policy.decide(make_enriched("a1"), make_match("a1"))
    up = policy.decide(_second_outlet(make_enriched, "b1"), make_match("b1"))
    third = _second_outlet(make_enriched, "c1", source="C", url="https://c.example/x")
    capped = policy.decide(third, make_match("c1"))
    assert (up.action, capped.action) == ("update", "throttled")


def test_replayed_match_returns_the_same_decision_after_restart(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """A new policy over the same state gives the recorded alert again, marked as repeat."""
    state: dict[str, object] = {}
    clock = Clock()
    first = AlertPolicy(state, clock=clock).decide(make_enriched("a1"), make_match("a1"))
    clock.now += 5
    restarted = AlertPolicy(json.loads(json.dumps(state)), clock=clock)
    again = restarted.decide(make_enriched("a1"), make_match("a1"))
    assert again.repeat and again.action == "new"
    assert again.alert == first.alert


def _as_written_before_packing(state: dict[str, object]) -> dict[str, object]:
    """The same state as the previous release wrote it: signatures as int lists, the memo's
    alert and the story's head article as nested dicts, band entries as dicts."""
    old = json.loads(json.dumps(state))
    for key, value in list(old.items()):
        if isinstance(value, list):
            old[key] = {"s": value[1:], "t": value[0]}
        if isinstance(value, dict):
            if isinstance(value.get("sig"), str):
                value["sig"] = unpack_signature(value["sig"])
            for field in ("alert", "head"):
                if isinstance(value.get(field), str):
                    value[field] = json.loads(value[field])
    return old


def test_state_written_by_the_previous_release_is_read_the_same(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """Old-format state gives the same repeat, near-duplicate update and related article."""
    clock = Clock()
    state: dict[str, object] = {}
    first = AlertPolicy(state, clock=clock).decide(make_enriched("a1"), make_match("a1"))
    old = _as_written_before_packing(state)
    assert any(isinstance(v, dict) and isinstance(v.get("sig"), list) for v in old.values())
    assert not any(isinstance(v, list) for v in old.values())
    clock.now += 5
    restarted = AlertPolicy(old, clock=clock)
    again = restarted.decide(make_enriched("a1"), make_match("a1"))
    assert again.repeat and again.alert == first.alert
    update = restarted.decide(_second_outlet(make_enriched), make_match("b1", entities=[]))
    assert update.action == "update" and update.reason == "near-duplicate"
    assert update.alert is not None and first.alert is not None
    assert update.alert.alert_id == first.alert.alert_id
    assert [r.id for r in update.alert.related] == ["a1"]


def test_state_is_plain_json_and_rule_scoped(make_enriched: MakeE, make_match: MakeM) -> None:
    """Every key starts with the rule id and every value survives a JSON round trip."""
    state: dict[str, object] = {}
    policy = AlertPolicy(state, clock=Clock())
    policy.decide(make_enriched("a1"), make_match("a1"))
    policy.decide(_second_outlet(make_enriched), make_match("b1"))
    assert state and all(k.startswith("alibaba-espionage|") for k in state)
    assert json.loads(json.dumps(state)) == state


def test_routing_defaults_by_severity_and_updates_go_to_the_digest(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """No rule channels: high → Slack, low → digest; email updates are queued in the digest."""
    config = PolicyConfig(extra_channels=["file"])
    policy = AlertPolicy({}, clock=Clock(), config=config)
    high = policy.decide(make_enriched("a1"), make_match("a1", channels=[]))
    low = policy.decide(
        make_enriched("x1", text=OTHER_STORY, url="https://x.example/", source="X"),
        make_match("x1", channels=[], severity="low", entities=["x"], rule_id="other-rule"),
    )
    assert high.alert is not None and high.alert.channels == ["slack", "file"]
    assert low.alert is not None and low.alert.channels == ["digest", "file"]
    policy2 = AlertPolicy({}, clock=Clock())
    chans = ["slack:#sec", "email:secops@example.com"]
    policy2.decide(make_enriched("a1"), make_match("a1", channels=chans))
    up = policy2.decide(_second_outlet(make_enriched), make_match("b1", channels=chans))
    assert up.alert is not None and up.alert.channels == ["slack:#sec", "digest:secops@example.com"]


def test_prune_removes_old_state_only(make_enriched: MakeE, make_match: MakeM) -> None:
    """State older than the retention is deleted; fresh state stays."""
    clock = Clock()
    state: dict[str, object] = {}
    policy = AlertPolicy(state, clock=clock, config=PolicyConfig(retention_s=100))
    policy.decide(make_enriched("a1"), make_match("a1"))
    old_keys = set(state)
    clock.now += 50
    other = make_enriched("z1", text=OTHER_STORY, url="https://z.example/", source="Z")
    policy.decide(other, make_match("z1", entities=["z"], rule_id="r2"))
    clock.now += 60
    removed = policy.prune()
    assert removed >= len(old_keys) - 1  # the rule's rate entry may be shared
    assert not any(k.startswith("alibaba-espionage|s|") for k in state)
    assert not any(k.startswith("alibaba-espionage|m|") for k in state)  # band lists too
    assert any(k.startswith("r2|s|") for k in state)
    assert any(k.startswith("r2|m|") for k in state)


def test_old_band_dicts_expire_like_band_lists() -> None:
    """Band entries in the previous dict shape are pruned by age like the new lists."""
    state: dict[str, object] = {
        "r|m|0:aa": {"s": ["x"], "t": 10.0},
        "r|m|1:bb": [10.0, "x"],
        "r|m|2:cc": [500.0, "y"],
        "r|s|x": {"id": "x", "t": 10.0},
        "r|odd": ["no time here"],
    }
    removed = AlertPolicy(state, clock=lambda: 600.0, config=PolicyConfig(retention_s=100)).prune()
    assert removed == 3 and set(state) == {"r|m|2:cc", "r|odd"}
    assert touched_at([5, "s"]) == 5.0 and touched_at({"t": 7}) == 7.0
    assert touched_at("x") is None and touched_at([]) is None and touched_at({"s": 1}) is None


def test_malformed_state_values_are_ignored(make_enriched: MakeE, make_match: MakeM) -> None:
    """A corrupt table value does not crash ``decide``."""
    state: dict[str, object] = {"alibaba-espionage|rate": "garbage"}
    decision = AlertPolicy(state, clock=Clock()).decide(make_enriched("a1"), make_match("a1"))
    assert decision.action == "new"


def test_packed_signatures_round_trip_and_bad_values_are_none() -> None:
    """A packed signature unpacks to the same ints; old lists pass; junk gives None."""
    sig = signature(STORY)
    assert sig is not None and max(sig) <= 0xFFFFFFFF
    assert unpack_signature(pack_signature(sig)) == sig
    assert len(pack_signature(sig)) == 8 * len(sig)
    assert unpack_signature(sig) == sig
    assert unpack_signature("not hex!") is None
    assert unpack_signature(["1", 2]) is None and unpack_signature(None) is None
