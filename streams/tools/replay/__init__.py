"""``newswatch replay``: backtest a watch-list change over a topic's history (or files).

    options = ReplayOptions(watchlist=Path("new.yaml"), baseline=Path("live.yaml"),
                            since=parse_time("7d"), labels=Path("labels.jsonl"))
    result = await backtest(settings, options)       # result.report: BacktestReport

Modules (private, behind this ``__all__``):

    _options    ReplayOptions
    _seek       pure: check a broker's offsets-by-time answer against the records around it
    _reader     TopicReader: own aiokafka consumer, no group, no commits, all partitions;
                end offsets from the fetch high watermark
    _types      ReadRecord / ReadBatch / Origin (plain data shared by reader and engine)
    _backtest   pure engine: select (time range, valid, not replayed, first copy of an id),
                enrich once, match NEW and BASELINE
    _pair       pure: NEW and BASELINE matched in one matcher pass (namespaced union)
    _figures    pure: gained/lost, per-day timeline, precision/recall/F1 against labels
    _labels     labels JSONL {"id", "rule", "relevant"}
    _progress   progress bar (TTY) or periodic line on stderr
    _sources    topic or files as the source; --republish
    _run        orchestration and reports (backtest, run_replay)
    bench       ``newswatch bench replay``
    errors      ReplayInputError, TopicNotFound, ReplayReadError (under ReplayError)

Only ``_reader`` and ``_sources`` (lazily) touch Kafka.
"""

from __future__ import annotations

from streams.tools.replay._backtest import ArticleInfo, Backtest
from streams.tools.replay._figures import build_rules, score, timeline_days
from streams.tools.replay._labels import Labels, load_labels
from streams.tools.replay._progress import Progress
from streams.tools.replay._run import ReplayOptions, ReplayResult, backtest, run_replay
from streams.tools.replay._seek import Probe, plan_partition, probe_offset, validate_answer
from streams.tools.replay._types import Origin, ReadBatch, ReadRecord
from streams.tools.replay.errors import (
    ReplayError,
    ReplayInputError,
    ReplayReadError,
    TopicNotFound,
)

__all__ = [
    "ArticleInfo",
    "Backtest",
    "Labels",
    "Origin",
    "Probe",
    "Progress",
    "ReadBatch",
    "ReadRecord",
    "ReplayError",
    "ReplayInputError",
    "ReplayOptions",
    "ReplayReadError",
    "ReplayResult",
    "TopicNotFound",
    "backtest",
    "build_rules",
    "load_labels",
    "plan_partition",
    "probe_offset",
    "run_replay",
    "score",
    "timeline_days",
    "validate_answer",
]
