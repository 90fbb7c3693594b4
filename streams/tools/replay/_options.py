"""``ReplayOptions``: everything ``newswatch replay`` was asked to do (parsed by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from streams.tools.report import DEFAULT_MAX_ITEMS

__all__ = ["ReplayOptions"]


@dataclass
class ReplayOptions:
    """Everything ``newswatch replay`` was asked to do."""

    watchlist: Path | None = None
    baseline: Path | None = None
    since: datetime | None = None
    until: datetime | None = None
    topic: str = "articles.raw"
    labels: Path | None = None
    #: labels from the ``Feedback`` records on ``alerts.feedback`` instead of a file
    labels_from_topic: bool = False
    report: Path | None = None
    json_path: Path | None = None
    inputs: list[Path] = field(default_factory=list)
    republish: bool = False
    full_scan: bool = False
    progress: bool = True
    max_items: int = DEFAULT_MAX_ITEMS
    batch_size: int = 256
