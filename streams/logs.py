"""Logging set-up for workers: plain lines, or one JSON object per line (``NEWSWATCH_LOG_JSON``).

Logs go to stderr (stdout carries the console channel's alerts). newswatch never logs a
secret: settings are logged only through ``Settings.public_dump()``, and both formatters
(plain ``RedactingFormatter``, ``JsonFormatter``) pass each line, extras and tracebacks
included, through ``redact_urls``, which masks the user-info, query string and token-like path
segments of every URL (httpx logs each request URL; a webhook's ``?token=`` or a Slack hook's
secret path must not reach the log). httpx/httpcore log at WARNING unless the level is DEBUG.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

__all__ = ["JsonFormatter", "RedactingFormatter", "logging_config", "redact_urls"]

# scheme://[userinfo@]host[:port][/path][?query][#fragment]
_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<rest>[^\s\"'<>]+)")
_MASK = "***"
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}")

_RESERVED = set(vars(logging.makeLogRecord({})))


def _secret_segment(segment: str) -> bool:
    """A path segment that looks like a token (Slack/Discord hook secrets), not a slug."""
    return bool(_TOKEN.fullmatch(segment)) and (
        "-" not in segment
        or (any(c.isupper() for c in segment) and any(c.isdigit() for c in segment))
    )


def _redact_one(match: re.Match[str]) -> str:
    rest = match.group("rest")
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=-1)
    authority, tail = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    if "@" in authority:
        authority = _MASK + "@" + authority.rsplit("@", 1)[1]
    path, query = tail, ""
    for mark in ("?", "#"):
        if mark in path:
            path, query = path.split(mark, 1)[0], mark + _MASK
            break
    path = "/".join(_MASK if _secret_segment(p) else p for p in path.split("/"))
    return match.group("scheme") + authority + path + query


def redact_urls(text: str) -> str:
    """``text`` with URL user-info, query strings and token-like path segments as ``***``."""
    return _URL.sub(_redact_one, text) if "://" in text else text


class RedactingFormatter(logging.Formatter):
    """The standard formatter, with :func:`redact_urls` over the whole line (and traceback)."""

    def format(self, record: logging.LogRecord) -> str:
        """Format the record, then redact URLs in the result."""
        return redact_urls(super().format(record))


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
        return redact_urls(json.dumps(payload, ensure_ascii=False))


def logging_config(*, json_logs: bool, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict: stderr, plain or JSON lines."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if json_logs
        else {
            "()": RedactingFormatter,
            "fmt": "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s",
        }
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
        "loggers": {
            name: {"level": "DEBUG" if level.upper() == "DEBUG" else "WARNING"}
            for name in ("httpx", "httpcore")
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }
