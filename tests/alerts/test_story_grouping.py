"""One alert per real story: default grouping by URL or text, entities only on request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from alerts.policy import AlertPolicy
from schemas.records import EnrichedArticle, Match
from tests.alerts.channels.test_alerts_slack import _deliverer
from tests.alerts.conftest import OTHER_STORY, STORY, DeadLetters

MakeE = Callable[..., EnrichedArticle]
MakeM = Callable[..., Match]
NOW = 1_700_000_000.0

#: Four distinct stories that all name Alibaba (same rule, same entity set).
DISTINCT = [
    ("a1", STORY, "https://one.example/liege", "One"),
    ("b1", OTHER_STORY + " Alibaba Cloud hosted the leak site.", "https://two.example/leak", "Two"),
    (
        "c1",
        "Alibaba reported quarterly revenue above expectations as cloud sales grew and the "
        "company announced a share buyback; analysts pointed to cost cuts in logistics and "
        "a recovery of domestic consumption after a weak year for Chinese retailers.",
        "https://three.example/results",
        "Three",
    ),
    (
        "d1",
        "Regulators in Brussels opened a consumer-protection case against AliExpress over "
        "unsafe products and misleading discounts, asking Alibaba to explain its "
        "marketplace checks within four weeks or face fines under the Digital Services Act.",
        "https://four.example/dsa",
        "Four",
    ),
]


def _clock() -> float:
    return NOW


def test_distinct_articles_with_the_same_entities_are_distinct_stories(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """Four different articles naming the same entity are four alerts (were 1 new + 3 updates)."""
    policy = AlertPolicy({}, clock=_clock)
    decisions = [
        policy.decide(make_enriched(i, text=t, url=u, source=s), make_match(i))
        for i, t, u, s in DISTINCT
    ]
    assert [d.action for d in decisions] == ["new"] * 4
    assert len({d.story_id for d in decisions}) == 4


def test_grouping_by_entities_is_an_explicit_rule_option(
    make_enriched: MakeE, make_match: MakeM
) -> None:
    """``group_by: [url, text, entities]`` merges them again: one alert, three updates."""
    policy = AlertPolicy({}, clock=_clock)
    by = ["url", "text", "entities"]
    decisions = [
        policy.decide(make_enriched(i, text=t, url=u, source=s), make_match(i, group_by=by))
        for i, t, u, s in DISTINCT
    ]
    assert [d.action for d in decisions] == ["new", "update", "update", "update"]
    assert {d.reason for d in decisions[1:]} == {"entities"}


def test_update_names_the_new_article(make_enriched: MakeE, make_match: MakeM) -> None:
    """An update carries the new report and its evidence; the first report is context."""
    policy = AlertPolicy({}, clock=_clock)
    policy.decide(make_enriched("a1"), make_match("a1"))
    second = make_enriched(
        "b1",
        text="Agency report. " + STORY.replace("Thursday", "Friday"),
        url="https://two.example/belgium-alibaba",
        source="News Two",
        title="Belgian spies watch Alibaba logistics centre",
    )
    new_sentence = "Belgian spies watch the Alibaba hub for espionage, News Two learned."
    decision = policy.decide(second, make_match("b1", snippet=new_sentence))
    assert decision.action == "update" and decision.alert is not None
    assert decision.alert.article.id == "b1" and decision.alert.article.source == "News Two"
    assert decision.alert.evidence[0].snippet == new_sentence
    assert [r.id for r in decision.alert.related] == ["a1"]


@pytest.mark.servers
async def test_slack_update_is_a_thread_reply_naming_the_new_article(
    fake_slack: Any,
    dlq: DeadLetters,
    fast_delivery: Any,
    make_enriched: MakeE,
    make_match: MakeM,
) -> None:
    """The Slack update replies in the story's thread with the new title, source, link, sentence."""
    policy = AlertPolicy({}, clock=_clock)
    first = policy.decide(make_enriched("a1"), make_match("a1", channels=["slack:#sec"]))
    second = make_enriched(
        "b1",
        text="Agency report. " + STORY.replace("Thursday", "Friday"),
        url="https://two.example/belgium-alibaba",
        source="News Two",
        title="Belgian spies watch Alibaba logistics centre",
    )
    sentence = "Belgian spies watch the Alibaba hub for espionage, News Two learned."
    update = policy.decide(second, make_match("b1", channels=["slack:#sec"], snippet=sentence))
    assert first.alert is not None and update.alert is not None
    async with _deliverer(fake_slack, dlq, fast_delivery) as deliverer:
        await deliverer.deliver(first.alert)
        await deliverer.deliver(update.alert)
    top, reply = fake_slack.messages
    assert reply["thread_ts"] == top["ts"]
    blocks = reply["blocks"]
    for model in Block.parse_all(blocks):
        assert model is not None
        model.validate_json()
    headline = blocks[1]["text"]["text"]
    assert "*Belgian spies watch Alibaba logistics centre*" in headline
    assert "<https://two.example/belgium-alibaba|Open the article>" in headline
    assert blocks[2]["elements"][0]["text"].startswith("News Two · ")
    wire = json.dumps(blocks, ensure_ascii=False)
    assert "News Two learned" in wire and "Belgium watches Alibaba hub" in wire  # first: context
    assert reply["text"].startswith("Update: [HIGH] Alibaba linked to espionage concerns: Belgian")
