"""JSONL file channel: one line per alert, for the demo and for audits.

``file`` appends to ``<directory>/alerts.jsonl``, ``file:NAME`` to ``<directory>/NAME.jsonl``.
Each line: ``{"delivery_key", "alert_id", "kind", "delivered_at", "alert", "text"}``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import os
import time
from pathlib import Path

from alerts.channels.base import Channel, Receipt
from alerts.config import FileConfig
from alerts.errors import DeliveryError
from alerts.ids import delivery_key
from alerts.render import Rendered
from schemas.records import AlertRecord

__all__ = ["FileChannel"]

_PERMANENT_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EEXIST,
    errno.EISDIR,
    errno.ENOTDIR,
    errno.EROFS,
}


class FileChannel(Channel):
    """Appends one JSON line per alert (writes run off the event loop)."""

    name = "file"
    fmt = "console"

    def __init__(self, config: FileConfig) -> None:
        self.config = config

    def path_for(self, target: str | None) -> Path:
        """The JSONL file of a target name (validated by the spec parser)."""
        return self.config.directory / f"{target or self.config.default_name}.jsonl"

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Append the line; OSError → DeliveryError (permission problems are permanent)."""
        spec = f"file:{target}" if target else "file"
        path = self.path_for(target)
        line = json.dumps(
            {
                "delivery_key": delivery_key(alert),
                "alert_id": alert.alert_id,
                "kind": alert.kind,
                "delivered_at": time.time(),
                "alert": alert.model_dump(mode="json"),
                "text": rendered.text,
            },
            ensure_ascii=False,
        )
        try:
            await asyncio.to_thread(self._append, path, line + "\n")
        except OSError as exc:
            raise DeliveryError(
                channel=spec,
                retriable=exc.errno not in _PERMANENT_ERRNOS,
                reason=f"{type(exc).__name__}: {exc.strerror or exc}",
            ) from None
        return Receipt(channel=spec, ref=str(path))

    def _append(self, path: Path, line: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            if self.config.fsync:
                os.fsync(fh.fileno())
