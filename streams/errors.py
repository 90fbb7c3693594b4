"""The error tree of the ``streams`` package.

    NewswatchError                  base; ``exit_code`` for the CLI, never a traceback
    ├── ConfigError                 bad settings or environment (names the setting)
    ├── BrokerError                 embedded broker would not start / not reachable
    ├── IngestError                 a source could not be read (names the source)
    │   └── FetchRefused            the guarded HTTP client refused a URL (SSRF guard)
    ├── RecordError                 one Kafka record could not be processed → dead letter
    │   ├── DecodeError             not JSON / not UTF-8 / too large
    │   └── SchemaError             JSON that fails the record schema
    ├── EnrichError                 enrichment failed for one article
    ├── WatchlistError              (streams.watchlist.errors) problems with file:line:col
    └── ReplayError                 a replay/backtest could not run

``RecordError`` carries where the record came from (topic, partition, offset, key) so the
agent can dead-letter it with the reason and go on with the next one.
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "ConfigError",
    "DecodeError",
    "EnrichError",
    "FetchRefused",
    "IngestError",
    "NewswatchError",
    "RecordError",
    "ReplayError",
    "SchemaError",
]


class NewswatchError(Exception):
    """Base class of every error newswatch raises on purpose."""

    exit_code: int = 1
    retriable: bool = False


class ConfigError(NewswatchError):
    """Settings or environment are invalid; the message names the setting."""

    exit_code = 2


class BrokerError(NewswatchError):
    """The Kafka broker could not be started or reached."""

    retriable = True


class IngestError(NewswatchError):
    """A source could not be read or parsed."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(f"{source}: {message}" if source else message)
        self.source = source


class FetchRefused(IngestError):
    """The guarded HTTP client refused to fetch a URL (scheme, address, size, type)."""


class RecordError(NewswatchError):
    """One record could not be processed; carries its origin for the dead letter."""

    def __init__(
        self,
        reason: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.column: int = 1
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key


class DecodeError(RecordError):
    """The record value is not UTF-8 JSON, is too large or too deeply nested."""


class SchemaError(RecordError):
    """The record is JSON but does not satisfy the topic's schema."""


class EnrichError(NewswatchError):
    """Enrichment failed for one article."""


class ReplayError(NewswatchError):
    """A replay or backtest could not run."""
