"""A fake Slack Web API over real HTTP on loopback, with fault injection.

    async with FakeSlack(tokens={"xoxb-test"}) as slack:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.url)
        slack.fail("ratelimited", retry_after=1)        # next chat.postMessage → 429
        slack.fail("error", error="channel_not_found")  # then ok=false
        ...
        slack.messages                                  # accepted chat.postMessage calls

Reading back: ``conversations.history`` (top-level messages of a channel, newest first),
``conversations.replies`` (a thread, oldest first) and ``conversations.list`` answer like
Slack: channel IDs only (``C…``, as ``chat.postMessage`` returns them), ``oldest`` /
``latest`` / ``inclusive``, ``limit`` with cursor pagination, and message ``metadata``
only with ``include_all_metadata=true``. ``history_error = "missing_scope"`` makes all three
answer that error (a bot token without ``channels:history``). Message ``ts`` values follow
the wall clock (strictly increasing), so ``oldest`` filters work against real times.

Interactivity: ``chat.update`` replaces a message's text/blocks (``updates`` lists the
calls); ``interaction_payload(message, action_id)`` is the ``block_actions`` payload Slack
sends when a button of ``message`` is clicked, and ``signed_interaction(payload, secret)``
the form body and signed headers to POST it to an interactivity URL.

Faults: ``ratelimited`` (429 + Retry-After), ``server_error`` (500, HTML body),
``timeout`` (no answer for ``delay`` seconds), ``error`` (200, ``ok: false``, ``error``).
Like Slack, it checks the bearer token (``invalid_auth``), known channels
(``channel_not_found``), Block Kit limits (``invalid_blocks``) and text size
(``msg_too_long``). Run ``python -m alerts.testing.slack --port 8099`` to use it from a shell
(``SLACK_API_URL=http://127.0.0.1:8099/api/``); it prints each message it receives.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from alerts.blocks import block_problems

__all__ = [
    "MAX_MESSAGE_CHARS",
    "FakeSlack",
    "Fault",
    "SlackRequest",
    "main",
    "signed_interaction",
]

#: Slack rejects longer ``text`` with ``msg_too_long``.
MAX_MESSAGE_CHARS = 40_000


@dataclass
class Fault:
    """One injected failure for the next call of ``method``."""

    kind: str
    method: str = "chat.postMessage"
    retry_after: float | None = 1.0
    error: str | None = None
    delay: float = 5.0


@dataclass
class SlackRequest:
    """One request as the server saw it (the token is kept only to check auth)."""

    method: str
    token: str | None
    params: dict[str, Any]
    received_at: float
    outcome: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    """The fake server. ``channels=None`` accepts any channel name."""

    def __init__(
        self,
        *,
        tokens: set[str] | None = None,
        channels: set[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        echo: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.tokens = tokens if tokens is not None else {"xoxb-test"}
        self.channels = channels
        self.host = host
        self.port = port
        self.echo = echo
        self.clock = clock
        #: Answer every history read (``conversations.*``) with this error, e.g.
        #: ``missing_scope`` or ``not_allowed_token_type``; None: answer normally.
        self.history_error: str | None = None
        self.requests: list[SlackRequest] = []
        self.messages: list[dict[str, Any]] = []
        #: accepted ``chat.update`` calls
        self.updates: list[dict[str, Any]] = []
        self._faults: deque[Fault] = deque()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._seq = 0
        self._last_ts = 0.0

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """The base URL for ``AsyncWebClient(base_url=...)`` / ``SLACK_API_URL``."""
        return f"http://{self.host}:{self.port}/api/"

    async def start(self) -> str:
        """Listen on loopback; returns ``url``."""
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # slack-sdk reads with GET
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self.url

    async def stop(self) -> None:
        """Wake delayed handlers and close the server."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ faults & views
    def fail(self, kind: str, *, times: int = 1, **options: Any) -> None:
        """Queue ``times`` faults of ``kind`` for the next matching calls."""
        if kind not in ("ratelimited", "server_error", "timeout", "error"):
            raise ValueError(f"unknown fault kind {kind!r}")
        for _ in range(times):
            self._faults.append(Fault(kind, **options))

    def calls(self, method: str = "chat.postMessage") -> list[SlackRequest]:
        """Every request for ``method``, failed ones included, in arrival order."""
        return [r for r in self.requests if r.method == method]

    def replies(self, thread_ts: str) -> list[dict[str, Any]]:
        """Accepted messages posted into the thread of ``thread_ts``."""
        return [m for m in self.messages if m.get("thread_ts") == thread_ts]

    # ------------------------------------------------------------------ handler
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
        record = SlackRequest(method, token, params, time.time())
        self.requests.append(record)

        fault = self._next_fault(method)
        if fault is not None:
            record.outcome = f"fault:{fault.kind}"
            if fault.kind == "ratelimited":
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(int(fault.retry_after))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers=headers
                )
            if fault.kind == "server_error":
                return web.Response(
                    status=500, text="<html>internal error</html>", content_type="text/html"
                )
            if fault.kind == "timeout":
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), fault.delay)
                return web.json_response({"ok": False, "error": "request_timeout"})
            return self._error(record, fault.error or "internal_error")

        if token not in self.tokens:
            return self._error(record, "invalid_auth")
        if method == "auth.test":
            record.outcome = "ok"
            return web.json_response({"ok": True, "team": "fake", "user_id": "UFAKEBOT"})
        if method in _READERS:
            if self.history_error is not None:
                return self._error(
                    record, self.history_error, needed="channels:history", provided="chat:write"
                )
            return self._read(record, method, params)
        if method == "chat.update":
            return self._update(record, params)
        if method != "chat.postMessage":
            record.outcome = "ok"
            return web.json_response({"ok": True})
        return self._post_message(record, params)

    def _update(self, record: SlackRequest, params: dict[str, Any]) -> web.Response:
        """``chat.update``: replace text/blocks of the message ``ts`` in channel (ID)."""
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                return self._error(record, "invalid_blocks")
        if blocks is not None and block_problems(blocks):
            return self._error(record, "invalid_blocks", problems=block_problems(blocks))
        for message in self.messages:
            if message["ts"] == ts and _channel_id(str(message["channel"])) == channel:
                if blocks is not None:
                    message["blocks"] = blocks
                if params.get("text"):
                    message["text"] = params["text"]
                self.updates.append(dict(params, blocks=blocks))
                record.outcome = "ok"
                return web.json_response({"ok": True, "channel": channel, "ts": ts})
        return self._error(record, "message_not_found")

    def interaction_payload(
        self, message: dict[str, Any], action_id: str, *, user_id: str = "U0TESTER"
    ) -> dict[str, Any]:
        """A ``block_actions`` payload as Slack sends it when ``action_id`` is clicked."""
        button = next(
            element
            for block in message.get("blocks") or []
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element.get("action_id") == action_id
        )
        channel_id = _channel_id(str(message["channel"]))
        return {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_id.lower()},
            "team": {"id": "TFAKE"},
            "container": {"type": "message", "channel_id": channel_id, "message_ts": message["ts"]},
            "channel": {"id": channel_id},
            "message": {
                "ts": message["ts"],
                "text": message.get("text"),
                "blocks": message["blocks"],
            },
            "response_url": f"{self.url.rstrip('/')}/response",
            "trigger_id": f"trigger-{message['ts']}",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "nw_actions",
                    "value": button.get("value"),
                    "action_ts": f"{self.clock():.6f}",
                }
            ],
        }

    def _post_message(self, record: SlackRequest, params: dict[str, Any]) -> web.Response:
        channel = str(params.get("channel") or "")
        if not channel or (self.channels is not None and channel not in self.channels):
            return self._error(record, "channel_not_found")
        text = params.get("text")
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                return self._error(record, "invalid_blocks")
        if not text and not blocks:
            return self._error(record, "no_text")
        if isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS:
            return self._error(record, "msg_too_long")
        if blocks is not None and block_problems(blocks):
            return self._error(record, "invalid_blocks", problems=block_problems(blocks))
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except json.JSONDecodeError:
                return self._error(record, "invalid_metadata_format")
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            return self._error(record, "invalid_metadata_format")
        self._seq += 1
        self._last_ts = max(round(self.clock(), 6), round(self._last_ts + 0.000001, 6))
        ts = f"{self._last_ts:.6f}"
        message = dict(params, blocks=blocks, ts=ts)
        if metadata is not None:
            message["metadata"] = metadata
        self.messages.append(message)
        record.outcome = "ok"
        if self.echo:
            print(json.dumps({"channel": channel, "ts": ts, "text": text}, ensure_ascii=False))
            print(json.dumps(blocks, ensure_ascii=False, indent=1), flush=True)
        return web.json_response(
            {"ok": True, "channel": _channel_id(channel), "ts": ts, "message": {"text": text}}
        )

    def _read(self, record: SlackRequest, method: str, params: dict[str, Any]) -> web.Response:
        """``conversations.history`` / ``.replies`` / ``.list`` over the accepted messages."""
        if method == "conversations.list":
            names = sorted(self.channels or {str(m["channel"]) for m in self.messages})
            items = [
                {"id": _channel_id(n), "name": n.lstrip("#"), "is_channel": True}
                for n in names
                if not _is_id(n)
            ]
            page, more = _page(items, params)
            record.outcome = "ok"
            return web.json_response({"ok": True, "channels": page, **more})
        channel = str(params.get("channel") or "")
        if not _is_id(channel):
            return self._error(record, "channel_not_found")  # Slack wants the ID here
        mine = [m for m in self.messages if _channel_id(str(m["channel"])) == channel]
        if method == "conversations.history":
            chosen = [m for m in reversed(mine) if m.get("thread_ts") in (None, m["ts"])]
        else:
            parent = str(params.get("ts") or "")
            chosen = [m for m in mine if parent in (m["ts"], m.get("thread_ts"))]
            if not chosen:
                return self._error(record, "thread_not_found")
        inclusive = _true(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or 0) or float("inf")
        with_meta = _true(params.get("include_all_metadata"))
        items = [
            _as_history(m, with_meta)
            for m in chosen
            if (
                oldest <= float(m["ts"]) <= latest
                if inclusive
                else oldest < float(m["ts"]) < latest
            )
        ]
        page, more = _page(items, params)
        record.outcome = "ok"
        return web.json_response({"ok": True, "messages": page, **more})

    def _next_fault(self, method: str) -> Fault | None:
        for fault in self._faults:
            if fault.method == method:
                self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _error(record: SlackRequest, code: str, **extra: Any) -> web.Response:
        record.outcome = code
        return web.json_response({"ok": False, "error": code, **extra})


_READERS = frozenset({"conversations.history", "conversations.replies", "conversations.list"})
_ID = re.compile(r"[CGD][A-Z0-9]{8,}")


def _channel_id(name: str) -> str:
    """The fake's stable channel ID of a channel name (an ID stays itself)."""
    if _is_id(name):
        return name
    return "C" + hashlib.sha1(name.lstrip("#").encode()).hexdigest()[:8].upper()


def _is_id(name: str) -> bool:
    return _ID.fullmatch(name) is not None


def _true(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _as_history(message: dict[str, Any], with_meta: bool) -> dict[str, Any]:
    """A stored message as the history methods show it."""
    out: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "BFAKEBOT",
        "ts": message["ts"],
        "text": message.get("text") or "",
    }
    if message.get("thread_ts"):
        out["thread_ts"] = message["thread_ts"]
    if with_meta and message.get("metadata") is not None:
        out["metadata"] = message["metadata"]
    return out


def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``items`` (``limit``, opaque ``cursor``) and the pagination fields."""
    try:
        limit = min(999, max(1, int(params.get("limit") or 100)))
        start = int(base64.b64decode(str(params.get("cursor") or "")).decode() or 0)
    except ValueError:
        limit, start = 100, 0
    end = start + limit
    more = end < len(items)
    cursor = base64.b64encode(str(end).encode()).decode() if more else ""
    return items[start:end], {"has_more": more, "response_metadata": {"next_cursor": cursor}}


async def _params(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    ctype = request.content_type
    params: dict[str, Any] = dict(request.query)
    if ctype == "application/json" and body:
        data = json.loads(body)
        if isinstance(data, dict):
            params.update(data)
    elif body:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params


def signed_interaction(
    payload: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The form body and headers Slack sends for ``payload``, signed with ``secret``."""
    from urllib.parse import urlencode

    from slack_sdk.signature import SignatureVerifier

    body = urlencode({"payload": json.dumps(payload)}).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }
    return body, headers


def main(argv: list[str] | None = None) -> None:
    """Run the fake server in the foreground and print each message it receives."""
    parser = argparse.ArgumentParser(prog="python -m alerts.testing.slack")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--token", action="append", help="accepted bot token (repeatable)")
    args = parser.parse_args(argv)

    async def serve() -> None:
        tokens = set(args.token) if args.token else {"xoxb-test"}
        async with FakeSlack(tokens=tokens, host=args.host, port=args.port, echo=True) as slack:
            print(f"fake Slack Web API on {slack.url} (tokens: {len(tokens)})", flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":  # pragma: no cover
    main()
