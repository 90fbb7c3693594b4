"""Feedback buttons on Slack alerts and what a click becomes (pure; Block Kit via slack-sdk).

Every Slack alert gets one ``actions`` block: *Relevant*, *Not relevant*, *Mute this story*,
*Snooze this rule for <duration>*. Each button's ``value`` carries the alert's identity
(alert, rule, story, article, watch-list version) so a click needs no lookup. The blocks are
built with slack-sdk's Block Kit models, whose ``to_dict()`` validates Slack's limits.

After a click, :func:`judged_blocks` returns the message's blocks with a context line "who
did what, when" (one line per judgement, newest last, in one ``nw_feedback`` block).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, ContextBlock, MarkdownTextObject

from schemas.records import AlertRecord, Verdict

__all__ = [
    "ACTIONS_BLOCK_ID",
    "ACTION_VERDICTS",
    "FEEDBACK_BLOCK_ID",
    "ButtonValue",
    "feedback_actions",
    "judged_blocks",
    "parse_button_value",
]

ACTIONS_BLOCK_ID = "nw_actions"
FEEDBACK_BLOCK_ID = "nw_feedback"
#: action_id → verdict
ACTION_VERDICTS: dict[str, Verdict] = {
    "nw_relevant": "relevant",
    "nw_not_relevant": "not_relevant",
    "nw_mute_story": "mute_story",
    "nw_snooze_rule": "snooze_rule",
}
_DONE = {
    "relevant": "marked this *relevant*",
    "not_relevant": "marked this *not relevant*",
    "mute_story": "muted this story",
    "snooze_rule": "snoozed this rule",
}
MAX_VALUE = 2_000  # Slack's limit on a button value


def _duration(seconds: float) -> str:
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{int(seconds // 86400)} d"
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} min"
    return f"{int(seconds)} s"


class ButtonValue(dict[str, str]):
    """The identity of an alert as carried in a button value (short keys: a r s x v)."""

    @classmethod
    def of(cls, alert: AlertRecord) -> ButtonValue:
        """The value for ``alert``."""
        return cls(
            a=alert.alert_id,
            r=alert.rule_id,
            s=alert.story_id,
            x=alert.article.id,
            v=alert.watchlist_version,
        )

    def encode(self) -> str:
        """Compact JSON."""
        return json.dumps(self, separators=(",", ":"), ensure_ascii=False)


def parse_button_value(text: str) -> ButtonValue:
    """A button value back; ``ValueError`` when it is not ours."""
    data = json.loads(text)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) and data.get(k) for k in ("a", "r", "s", "x")
    ):
        raise ValueError("not a newswatch button value")
    return ButtonValue({k: str(data.get(k) or "") for k in ("a", "r", "s", "x", "v")})


def feedback_actions(alert: AlertRecord, *, snooze_s: float) -> dict[str, Any] | None:
    """The ``actions`` block of the four feedback buttons (None when the ids are too long)."""
    value = ButtonValue.of(alert).encode()
    if len(value) > MAX_VALUE:
        return None
    buttons = [
        ButtonElement(text="Relevant", action_id="nw_relevant", value=value, style="primary"),
        ButtonElement(text="Not relevant", action_id="nw_not_relevant", value=value),
        ButtonElement(text="Mute this story", action_id="nw_mute_story", value=value),
        ButtonElement(
            text=f"Snooze this rule for {_duration(snooze_s)}",
            action_id="nw_snooze_rule",
            value=value,
            style="danger",
        ),
    ]
    block = ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=buttons)
    return cast(dict[str, Any], block.to_dict())  # validates Slack's limits


def judged_blocks(
    blocks: list[dict[str, Any]],
    *,
    verdict: Verdict,
    user_id: str,
    at: float,
    until: float | None = None,
) -> list[dict[str, Any]]:
    """``blocks`` with the judgement added to the ``nw_feedback`` context line."""
    when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    line = f"<@{user_id}> {_DONE[verdict]} at {when}"
    if until is not None:
        line += f" (until {datetime.fromtimestamp(until, UTC).strftime('%Y-%m-%d %H:%M UTC')})"
    lines: list[str] = []
    kept: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == FEEDBACK_BLOCK_ID:
            lines = [str(e.get("text", "")) for e in block.get("elements", [])]
        else:
            kept.append(block)
    lines = [*lines, line][-10:]  # a context block holds at most 10 elements
    context = ContextBlock(
        block_id=FEEDBACK_BLOCK_ID, elements=[MarkdownTextObject(text=t) for t in lines]
    )
    return [*kept, cast(dict[str, Any], context.to_dict())][-50:]
