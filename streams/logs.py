"""Logging set-up for workers: plain lines, or one JSON object per line (``NEWSWATCH_LOG_JSON``).

Logs go to stderr (stdout carries the console channel's alerts). newswatch never logs a
secret: settings are logged only through ``Settings.public_dump()``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

__all__ = ["JsonFormatter", "logging_config"]

_RESERVED = set(vars(logging.makeLogRecord({})))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", ...extra, "exc"}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record as compact JSON."""
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage().strip(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value if isinstance(value, (str, int, float, bool)) else repr(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def logging_config(*, json_logs: bool, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: stderr, plain or JSON lines."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if json_logs
        else {"format": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
