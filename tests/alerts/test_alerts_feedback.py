"""Feedback buttons (Block Kit via slack-sdk) and the judged message (pure)."""

from __future__ import annotations

import json

import pytest

from alerts.blocks import block_problems
from alerts.feedback import feedback_actions, judged_blocks, parse_button_value
from schemas.records import AlertRecord, ArticleRef


def _alert(article_id: str = "art-1") -> AlertRecord:
    return AlertRecord(
        alert_id="al-1",
        rule_id="r1",
        rule_title="R",
        story_id="st-1",
        article=ArticleRef(id=article_id, title="T"),
        watchlist_version="sha256:1",
        created_at=1.0,
    )


def test_four_buttons_carry_the_alert_identity() -> None:
    """Relevant / Not relevant / Mute / Snooze, each valued with alert, rule, story, article."""
    block = feedback_actions(_alert(), snooze_s=3600)
    assert block is not None and not block_problems([block])
    labels = [e["text"]["text"] for e in block["elements"]]
    assert labels == ["Relevant", "Not relevant", "Mute this story", "Snooze this rule for 1 h"]
    value = parse_button_value(block["elements"][0]["value"])
    assert (value["a"], value["r"], value["s"], value["x"], value["v"]) == (
        "al-1",
        "r1",
        "st-1",
        "art-1",
        "sha256:1",
    )


def test_ids_too_long_for_a_button_value_get_no_buttons() -> None:
    """Slack caps a button value at 2,000 characters: then the alert goes without buttons."""
    assert feedback_actions(_alert("x" * 2_100), snooze_s=3600) is None


@pytest.mark.parametrize(
    "value", ["[]", '{"a": "x"}', "not json", '{"a":1,"r":"r","s":"s","x":"x"}']
)
def test_foreign_button_values_are_refused(value: str) -> None:
    """A value that is not a newswatch button value raises ValueError."""
    with pytest.raises(ValueError):
        parse_button_value(value)


def test_judgements_accumulate_in_one_context_block_of_at_most_ten_lines() -> None:
    """Each click adds a line "who did what, when"; the oldest drop after ten."""
    blocks: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": "alert"}}]
    for i in range(12):
        blocks = judged_blocks(blocks, verdict="relevant", user_id=f"U{i}", at=1e9 + i)
    assert len(blocks) == 2 and not block_problems(blocks)
    lines = [e["text"] for e in blocks[-1]["elements"]]
    assert len(lines) == 10 and lines[0].startswith("<@U2>") and lines[-1].startswith("<@U11>")
    assert json.dumps(blocks[0]) == json.dumps(
        {"type": "section", "text": {"type": "mrkdwn", "text": "alert"}}
    )
