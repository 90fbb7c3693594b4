"""The error tree of ``streams.tools.replay``.

    streams.errors.ReplayError          a replay/backtest could not run (exit code 1)
    ├── ReplayInputError                a bad option or input: --since/--until, a labels
    │                                   file line (``file:line:col``), a missing watch-list
    ├── TopicNotFound                   the topic does not exist (names topic and broker)
    └── ReplayReadError                 reading the topic failed or stalled (topic,
                                        partition, offset; ``retriable``)

A bad *record* in the topic is not an error: it is counted, listed with its
topic/partition/offset in the report, and the replay goes on.
"""

from __future__ import annotations

from streams.errors import ReplayError

__all__ = ["ReplayError", "ReplayInputError", "ReplayReadError", "TopicNotFound"]


class ReplayInputError(ReplayError):
    """An option or input file is wrong; ``where`` is ``file:line:col`` or the option."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


class TopicNotFound(ReplayError):
    """The topic to replay does not exist on the broker."""

    def __init__(self, topic: str, bootstrap: str) -> None:
        super().__init__(
            f"topic {topic!r} does not exist on {bootstrap} "
            "(check --topic and NEWSWATCH_TOPIC_PREFIX, or use --input FILE for offline replay)"
        )
        self.topic = topic
        self.bootstrap = bootstrap


class ReplayReadError(ReplayError):
    """Reading the topic failed; carries where it stopped."""

    retriable = True

    def __init__(
        self, message: str, *, topic: str, partition: int | None = None, offset: int | None = None
    ) -> None:
        where = topic if partition is None else f"{topic}[{partition}]@{offset}"
        super().__init__(f"{where}: {message}")
        self.topic = topic
        self.partition = partition
        self.offset = offset
