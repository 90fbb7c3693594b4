"""Console channel: the human-readable alert on stdout (what ``newswatch demo`` shows)."""

from __future__ import annotations

import sys
from typing import TextIO

from alerts.channels.base import Channel, Receipt
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = ["ConsoleChannel"]


class ConsoleChannel(Channel):
    """Prints rule id, severity, article title and matched sentences."""

    name = "console"
    fmt = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Write the rendered text and a blank line, then flush."""
        stream = self._stream or sys.stdout
        stream.write(rendered.text.rstrip("\n") + "\n\n")
        stream.flush()
        return Receipt(channel="console")
