"""Slack Block Kit limit checks and cutting."""

from __future__ import annotations

from alerts.blocks import MAX_BLOCKS, MAX_HEADER, MAX_SECTION, block_problems, fit_blocks


def test_fit_blocks_cuts_every_limit() -> None:
    """Oversized header, section and block count are cut to fit, with ellipses."""
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "H" * 500}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": "S" * 9000}}] * 80
    assert block_problems(blocks)
    fitted = fit_blocks(blocks)
    assert block_problems(fitted) == []
    assert len(fitted) == MAX_BLOCKS
    assert len(fitted[0]["text"]["text"]) == MAX_HEADER
    assert fitted[0]["text"]["text"].endswith("…")
    assert len(fitted[1]["text"]["text"]) == MAX_SECTION
    assert "more blocks not shown" in fitted[-1]["elements"][0]["text"]


def test_block_problems_names_each_violation() -> None:
    """Invalid shapes are reported with the block index."""
    problems = block_problems(
        [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}, {"type": "section"}, "x"]
    )
    assert problems == [
        "block 0: header text must be plain_text",
        "block 1: section without text or fields",
        "block 2: not an object with a type",
    ]
