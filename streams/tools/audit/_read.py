"""Read ``articles.matches``, ``alerts.outcomes`` and ``alerts.dlq`` since a time (Kafka)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.records import DeadLetter, OutcomeRecord
from streams.tools.audit.model import MatchRef
from streams.tools.replay._reader import TopicReader
from streams.tools.replay._types import ReadRecord

__all__ = ["AuditInput", "read_audit_input"]


class AuditInput:
    """The records an audit joins, and how many of each topic were read or unreadable."""

    def __init__(self) -> None:
        self.matches: list[MatchRef] = []
        self.outcomes: list[OutcomeRecord] = []
        self.letters: list[DeadLetter] = []
        self.read: dict[str, int] = {}
        self.unreadable: dict[str, int] = {}


async def _records(
    bootstrap: str, topic: str, since_ms: int | None, security: Mapping[str, Any]
) -> list[ReadRecord]:
    out: list[ReadRecord] = []
    async with TopicReader(bootstrap, topic, since_ms=since_ms, security=security) as reader:
        await reader.plan()
        async for batch in reader.batches():
            out.extend(
                r
                for r in batch.records
                if since_ms is None or r.timestamp_ms is None or r.timestamp_ms >= since_ms
            )
    return out


def _match_ref(record: ReadRecord) -> MatchRef | None:
    try:
        value = orjson.loads(record.value or b"")
        article = value["article"]
        match = value["matches"][0]
        return MatchRef(
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp_ms,
            article_id=str(article["id"]),
            rule_id=str(match["rule_id"]),
            title=str(article.get("title", "")),
            source=article.get("source"),
            url=article.get("url"),
            replayed=article.get("replayed") is True,
        )
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _unreadable_ref(record: ReadRecord) -> MatchRef:
    """A match record nobody can decode: still a match to account for (by its position)."""
    key = (record.key or b"").decode("utf-8", "replace")
    return MatchRef(
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp_ms,
        article_id=f"<unreadable record {record.partition}@{record.offset}>",
        rule_id=key or "?",
        title="",
    )


async def read_audit_input(
    bootstrap: str,
    topics: Mapping[str, str],
    *,
    since_ms: int | None,
    security: Mapping[str, Any],
) -> AuditInput:
    """Read the three topics (``topics``: role ``matches``/``outcomes``/``dlq`` → name)."""
    data = AuditInput()
    for role in ("matches", "outcomes", "dlq"):
        name = topics[role]
        records = await _records(bootstrap, name, since_ms, security)
        data.read[name] = len(records)
        bad = 0
        for record in records:
            if role == "matches":
                ref = _match_ref(record)
                if ref is None:
                    bad += 1  # the decide stage dead-letters it: found by its position
                    ref = _unreadable_ref(record)
                data.matches.append(ref)
                continue
            try:
                if role == "outcomes":
                    data.outcomes.append(OutcomeRecord.model_validate_json(record.value or b""))
                else:
                    data.letters.append(DeadLetter.model_validate_json(record.value or b""))
            except ValidationError:
                bad += 1
        data.unreadable[name] = bad
    return data
