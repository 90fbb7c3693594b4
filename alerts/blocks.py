"""Slack Block Kit limits: check a message and cut it to fit (pure).

Limits enforced (Slack's documented maxima for ``chat.postMessage``):
50 blocks per message, header text 150 characters, section text 3,000, section fields 10 ×
2,000, context elements 10, button text 75, URLs 3,000. Cut text ends with an ellipsis and
never splits an escaped entity; mrkdwn text is cut only between links, never inside
``<url|label>``.
"""

from __future__ import annotations

from typing import Any

from alerts._text import cut, cut_mrkdwn

__all__ = [
    "MAX_BLOCKS",
    "MAX_HEADER",
    "MAX_SECTION",
    "MAX_TEXT",
    "block_problems",
    "fit_blocks",
]

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3_000
MAX_FIELD = 2_000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON = 75
MAX_URL = 3_000
#: Cut for the top-level ``text`` fallback (Slack truncates at 40,000; keep it short).
MAX_TEXT = 3_000


def _fit_text(obj: Any, limit: int) -> None:
    if isinstance(obj, dict) and isinstance(obj.get("text"), str):
        cutter = cut_mrkdwn if obj.get("type") == "mrkdwn" else cut
        obj["text"] = cutter(obj["text"], limit)


def _fit_block(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "header":
        _fit_text(block.get("text"), MAX_HEADER)
    elif kind == "section":
        _fit_text(block.get("text"), MAX_SECTION)
        if isinstance(block.get("fields"), list):
            block["fields"] = block["fields"][:MAX_FIELDS]
            for field in block["fields"]:
                _fit_text(field, MAX_FIELD)
    elif kind == "context" and isinstance(block.get("elements"), list):
        block["elements"] = block["elements"][:MAX_CONTEXT_ELEMENTS]
        for element in block["elements"]:
            _fit_text(element, MAX_SECTION)
    elif kind == "actions" and isinstance(block.get("elements"), list):
        for element in block["elements"]:
            if isinstance(element, dict):
                _fit_text(element.get("text"), MAX_BUTTON)
                if isinstance(element.get("url"), str) and len(element["url"]) > MAX_URL:
                    element.pop("url")
    else:
        _fit_text(block.get("text"), MAX_SECTION)
    return block


def fit_blocks(blocks: list[Any]) -> list[dict[str, Any]]:
    """The blocks cut to Slack's limits; over 50, the rest is summarised in a context block."""
    valid = [_fit_block(dict(b)) for b in blocks if isinstance(b, dict) and b.get("type")]
    if len(valid) > MAX_BLOCKS:
        dropped = len(valid) - (MAX_BLOCKS - 1)
        valid = valid[: MAX_BLOCKS - 1]
        valid.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"… {dropped} more blocks not shown"}],
            }
        )
    return valid


def block_problems(blocks: Any) -> list[str]:
    """Every way ``blocks`` breaks the limits above (empty list: valid)."""
    problems: list[str] = []
    if not isinstance(blocks, list):
        return ["blocks is not a list"]
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    for i, block in enumerate(blocks):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"block {i}: not an object with a type")
            continue
        kind = block["type"]
        text = block.get("text")
        text_value = text.get("text") if isinstance(text, dict) else None
        if kind == "header":
            if not isinstance(text, dict) or text.get("type") != "plain_text":
                problems.append(f"block {i}: header text must be plain_text")
            elif not isinstance(text_value, str) or len(text_value) > MAX_HEADER:
                problems.append(f"block {i}: header text longer than {MAX_HEADER}")
        elif kind == "section":
            if isinstance(text_value, str) and len(text_value) > MAX_SECTION:
                problems.append(f"block {i}: section text longer than {MAX_SECTION}")
            fields = block.get("fields") or []
            if len(fields) > MAX_FIELDS:
                problems.append(f"block {i}: more than {MAX_FIELDS} fields")
            if text_value is None and not fields:
                problems.append(f"block {i}: section without text or fields")
        elif kind == "context":
            elements = block.get("elements")
            if not isinstance(elements, list) or not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                problems.append(f"block {i}: context needs 1..{MAX_CONTEXT_ELEMENTS} elements")
            else:
                for element in elements:
                    value = element.get("text") if isinstance(element, dict) else None
                    if isinstance(value, str) and len(value) > MAX_SECTION:
                        problems.append(f"block {i}: context text longer than {MAX_SECTION}")
    return problems
