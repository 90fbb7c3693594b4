"""Structured logs: one JSON object per line with level, logger, message and extras."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest

from streams.logs import JsonFormatter, logging_config, redact_urls


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


_HOOK_SCRIPT = r"""
import asyncio, logging.config, sys
from aiohttp import web
from alerts.channels.webhook import WebhookChannel
from alerts.config import WebhookConfig
from alerts.render import Renderer
from alerts._context import sample_alert
from streams.logs import logging_config

logging.config.dictConfig(logging_config(json_logs=sys.argv[2] == "json", level=sys.argv[1]))

async def main():
    app = web.Application()
    app.router.add_post("/hook", lambda request: web.json_response({}))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    url = f"http://hookuser:hookpass@127.0.0.1:{port}/hook?token=tok-s3cr3t-value"
    channel = WebhookChannel(WebhookConfig(url=url))
    await channel.send(sample_alert(), Renderer().render(sample_alert(), "console"))
    await channel.stop()
    logging.getLogger("newswatch.test").warning("posting to %s failed", url)
    await runner.cleanup()

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("level", "fmt"), [("info", "plain"), ("debug", "plain"), ("debug", "json")]
)
def test_webhook_url_secrets_never_reach_the_log(level: str, fmt: str) -> None:
    """httpx's request line and our own messages show no ``?token=`` or user-info of a URL."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", _HOOK_SCRIPT, level, fmt],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    log = done.stderr
    assert "posting to http://***@127.0.0.1:" in log and "/hook?***" in log
    for secret in ("tok-s3cr3t-value", "token=", "hookpass"):
        assert secret not in log
    assert ("HTTP Request: POST" in log) == (level == "debug")


def test_redact_urls_keeps_article_urls_and_masks_hook_secrets() -> None:
    """Query strings, user-info and token-like path segments go; ordinary paths stay."""
    slack = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert redact_urls(slack) == "https://hooks.slack.com/services/T000/B000/***"
    article = "https://news.example/world/2024/belgium-watches-alibaba-hub-over-espionage"
    assert redact_urls(f"fetch {article} failed") == f"fetch {article} failed"
    assert redact_urls("https://a:b@h.example/x?y=1#z") == "https://***@h.example/x?***"


def test_settings_repr_and_dump_mask_the_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """``repr(settings)`` and ``public_dump()`` never show the webhook URL."""
    from streams.settings import Settings

    monkeypatch.setenv("NEWSWATCH_WEBHOOK_URL", "https://hooks.example/in?token=s3cr3t")
    settings = Settings.load()
    assert settings.webhook_url == "https://hooks.example/in?token=s3cr3t"
    assert "s3cr3t" not in repr(settings) and "s3cr3t" not in str(settings)
    assert settings.public_dump()["webhook_url"] == "**********"
