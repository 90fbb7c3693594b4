"""Structured logs: one JSON object per line with level, logger, message and extras."""

from __future__ import annotations

import json
import logging
import sys

from streams.logs import JsonFormatter, logging_config


def test_json_formatter_renders_extras_and_exceptions() -> None:
    """A record with an extra field and an exception becomes one parseable JSON line."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("newswatch.test").makeRecord(
            "newswatch.test",
            logging.ERROR,
            __file__,
            1,
            "failed %s",
            ("x",),
            exc_info=sys.exc_info(),
            extra={"topic": "articles.raw", "offset": 7},
        )
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert "\n" not in line
    assert (data["level"], data["logger"], data["msg"]) == ("error", "newswatch.test", "failed x")
    assert data["topic"] == "articles.raw" and data["offset"] == 7
    assert "ValueError: boom" in data["exc"]


def test_logging_config_writes_to_stderr() -> None:
    """Both plain and JSON configurations log to stderr, leaving stdout to the console channel."""
    for json_logs in (False, True):
        config = logging_config(json_logs=json_logs, level="info")
        assert config["handlers"]["stderr"]["stream"] == "ext://sys.stderr"
        assert config["root"]["level"] == "INFO"
