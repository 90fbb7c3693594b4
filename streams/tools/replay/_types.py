"""Plain record types shared by the reader (Kafka) and the backtest (pure)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Origin", "ReadBatch", "ReadRecord"]


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One Kafka record as the backtest sees it."""

    partition: int
    offset: int
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """Records fetched together; ``consumed`` is how many offsets they advanced (progress)."""

    records: list[ReadRecord]
    consumed: int


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an article came from and its time (record timestamp, or published/ingested)."""

    timestamp_ms: int | None
    partition: int | None = None
    offset: int | None = None
