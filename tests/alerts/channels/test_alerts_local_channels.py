"""Console, JSONL file and webhook channels (the webhook against a real loopback server)."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from alerts.channels.console import ConsoleChannel
from alerts.channels.file import FileChannel
from alerts.channels.webhook import WebhookChannel
from alerts.config import DeliveryConfig, FileConfig, WebhookConfig
from alerts.deliver import Deliverer
from schemas.records import AlertRecord
from tests.alerts.conftest import DeadLetters, SleepRecorder

MakeA = Callable[..., AlertRecord]


class Hook:
    """A loopback HTTP endpoint that answers with queued status codes (200 when empty)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[tuple[int, dict[str, str]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        self.headers.append(dict(request.headers))
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        return web.Response(status=status, headers=headers, text="{}")


@pytest.fixture
async def hook() -> AsyncIterator[Hook]:
    """A real HTTP server on loopback recording webhook calls."""
    endpoint = Hook()
    app = web.Application()
    app.router.add_post("/hook", endpoint.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    endpoint.url = f"http://127.0.0.1:{port}/hook"
    yield endpoint
    await runner.cleanup()


async def test_console_prints_a_readable_alert(
    dlq: DeadLetters, make_alert: MakeA, fast_delivery: DeliveryConfig
) -> None:
    """The console shows severity, rule id, title, source link and the matched sentence."""
    out = io.StringIO()
    async with Deliverer({"console": ConsoleChannel(out)}, {}, dlq, config=fast_delivery) as d:
        await d.deliver(make_alert())
    text = out.getvalue()
    assert "HIGH · alibaba-espionage · Alibaba linked to espionage concerns" in text
    assert "Belgium watches Alibaba hub over espionage fears" in text
    assert "News One · https://news-one.example/world/alibaba-liege" in text
    assert "› The Belgian security service is monitoring" in text


async def test_file_channel_appends_one_json_line_per_alert(
    tmp_path: Path, dlq: DeadLetters, make_alert: MakeA, fast_delivery: DeliveryConfig
) -> None:
    """``file`` and ``file:replayed`` write JSONL lines holding the full alert."""
    channel = FileChannel(FileConfig(directory=tmp_path / "out"))
    async with Deliverer({"file": channel}, {}, dlq, config=fast_delivery) as deliverer:
        await deliverer.deliver(make_alert("a1", channels=["file"]))
        await deliverer.deliver(make_alert("a2", channels=["file", "file:replayed"]))
    lines = (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()
    assert [json.loads(x)["alert_id"] for x in lines] == ["a1", "a2"]
    assert json.loads(lines[0])["alert"]["rule_id"] == "alibaba-espionage"
    assert len((tmp_path / "out" / "replayed.jsonl").read_text().splitlines()) == 1


async def test_file_channel_permanent_error_is_dead_lettered(
    tmp_path: Path, dlq: DeadLetters, make_alert: MakeA, fast_delivery: DeliveryConfig
) -> None:
    """A directory path that is a file (ENOTDIR) is permanent and goes to the DLQ."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    channel = FileChannel(FileConfig(directory=blocker))
    async with Deliverer({"file": channel}, {}, dlq, config=fast_delivery) as deliverer:
        report = await deliverer.deliver(make_alert(channels=["file"]))
    assert report.outcomes == {"file": "dead_lettered"}
    assert not dlq[0].retriable and dlq[0].channel == "file"


@pytest.mark.servers
async def test_webhook_posts_json_with_idempotency_key_and_retries(
    hook: Hook,
    dlq: DeadLetters,
    make_alert: MakeA,
    fast_delivery: DeliveryConfig,
    sleeps: SleepRecorder,
) -> None:
    """503 then 429 (Retry-After 2) then 200: delivered once; the secret header is sent."""
    hook.answers = [(503, {}), (429, {"Retry-After": "2"})]
    config = WebhookConfig(url=hook.url, headers={"Authorization": "Bearer hook-secret"})  # type: ignore[dict-item]
    async with httpx.AsyncClient() as client:
        channel = WebhookChannel(config, client)
        async with Deliverer(
            {"webhook": channel},
            {},
            dlq,
            config=fast_delivery,
            sleep=sleeps,
            monotonic=sleeps.clock,
        ) as deliverer:
            report = await deliverer.deliver(make_alert(channels=["webhook"]))
    assert report.outcomes == {"webhook": "sent"} and not dlq
    assert len(hook.bodies) == 3 and 2.0 in sleeps.waits
    assert hook.bodies[-1]["alert"]["alert_id"] == "alert-1"
    assert hook.headers[-1]["Idempotency-Key"] == "alert-1"
    assert hook.headers[-1]["Authorization"] == "Bearer hook-secret"


@pytest.mark.servers
async def test_webhook_4xx_is_permanent(
    hook: Hook, dlq: DeadLetters, make_alert: MakeA, fast_delivery: DeliveryConfig
) -> None:
    """A 400 answer is not retried and is dead-lettered as ``http 400``."""
    hook.answers = [(400, {})]
    channel = WebhookChannel(WebhookConfig(url=hook.url))
    async with Deliverer({"webhook": channel}, {}, dlq, config=fast_delivery) as deliverer:
        await deliverer.deliver(make_alert(channels=["webhook"]))
    assert len(hook.bodies) == 1
    assert (dlq[0].reason, dlq[0].retriable) == ("http 400", False)


@pytest.mark.servers
async def test_webhook_text_is_escaped_on_the_wire(
    hook: Hook, dlq: DeadLetters, make_alert: MakeA, fast_delivery: DeliveryConfig
) -> None:
    """The posted ``text`` carries no raw ``<!channel>`` or ``@here``; ``alert`` stays raw data."""
    title = "Alibaba <!channel> @here *now*"
    channel = WebhookChannel(WebhookConfig(url=hook.url))
    async with Deliverer({"webhook": channel}, {}, dlq, config=fast_delivery) as deliverer:
        await deliverer.deliver(make_alert(title=title, channels=["webhook"]))
    [body] = hook.bodies
    assert "<!channel>" not in body["text"] and "&lt;!channel&gt;" in body["text"]
    assert "@here" not in body["text"] and "*now*" not in body["text"]
    assert body["alert"]["article"]["title"] == title
