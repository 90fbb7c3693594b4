"""Test doubles and harnesses shipped as code: worker subprocesses and topic readers.

Used by the test-suite, ``newswatch bench e2e`` and anyone who wants to drive a real
pipeline from Python: ``WorkerProcess`` runs ``newswatch worker`` in a child process (exactly
what a user runs) and waits for its ``/ready`` endpoint; ``read_topic`` drains a topic.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families

from alerts.testing.slack import FakeSlack, Fault, SlackRequest
from streams.settings import Settings

__all__ = [
    "FlakySlack",
    "MemoryOutbox",
    "SlackThread",
    "WorkerProcess",
    "agroup_lag",
    "aproduce_values",
    "aread_topic",
    "group_lag",
    "kafka_security_env",
    "metric_value",
    "produce_values",
    "read_topic",
    "scrape_metrics",
    "settings_env",
    "term_watchlist",
    "wait_until",
    "web_json",
    "write_text_atomic",
]


class WorkerProcess:
    """``newswatch worker`` in a subprocess with the given environment."""

    def __init__(self, env: dict[str, str], *, web_port: int, log_path: Path) -> None:
        # Test workers load pipelines on first use unless told otherwise: preloading every
        # configured language the example watch-list has terms for (10) costs each worker
        # ~15 s of CPU and ~0.7 GB at start (tests/streams/pipeline/test_preload.py covers it).
        self.env = {
            "NEWSWATCH_PRELOAD_LANGUAGES": "none",
            **os.environ,
            **env,
            "NEWSWATCH_WEB_PORT": str(web_port),
        }
        self.web_port = web_port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Spawn the worker (its own process group, output to ``log_path``)."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 60.0, *, failing: Iterable[str] = ()) -> None:
        """Block until ``/ready`` answers 200 (or 503 with only the ``failing`` checks down);
        raise with the log tail if the worker died."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.web_port}/ready"
        allowed = set(failing)
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                response = httpx.get(url, timeout=1.0)
                if response.status_code == 200:
                    return
                if allowed and response.status_code == 503:
                    checks = response.json().get("checks", {})
                    down = {name for name, check in checks.items() if not check.get("ok")}
                    if down and down <= allowed:
                        return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"worker not ready after {timeout}s:\n{self.log_tail()}")

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the worker's output."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker (crash test)."""
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL after ``timeout``."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode


def _json_or_bytes(value: bytes | None) -> Any:
    """Decoded JSON, or the raw bytes when the record is not JSON (e.g. garbage on purpose)."""
    if value is None:
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


async def aread_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int = 1,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Async ``read_topic``; ``client`` = TLS/SASL options (``security.client_kwargs``)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **(client or {}),
    )
    await consumer.start()
    try:
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        parts: set[int] | None = None
        while parts is None and time.monotonic() < deadline:
            parts = consumer.partitions_for_topic(topic) or None
            if parts is None:
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.1)
        tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        while len(records) < expect and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for msgs in batch.values():
                for m in msgs:
                    records.append(
                        {
                            "key": m.key,
                            "value": _json_or_bytes(m.value),
                            "partition": m.partition,
                            "offset": m.offset,
                            "timestamp": m.timestamp,
                        }
                    )
        return records
    finally:
        await consumer.stop()


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    expect: int = 1,
    timeout: float = 30.0,
    client: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Read ``topic`` from the beginning until ``expect`` records arrived or ``timeout`` passed."""
    return asyncio.run(aread_topic(bootstrap, topic, expect=expect, timeout=timeout, client=client))


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a ``newswatch`` subprocess see ``settings``."""
    env = {
        "NEWSWATCH_DATA_DIR": str(settings.data_dir),
        "NEWSWATCH_APP_ID": settings.app_id,
        "NEWSWATCH_TOPIC_PREFIX": settings.topic_prefix,
        "NEWSWATCH_PARTITIONS": str(settings.partitions),
        "NEWSWATCH_SESSION_TIMEOUT": str(settings.session_timeout_s),
        "NEWSWATCH_WATCHLIST": str(settings.watchlist),
        "NEWSWATCH_LOG_LEVEL": settings.log_level,
        "NEWSWATCH_ALERT_CHANNELS": ",".join(settings.alert_channels),
        "NEWSWATCH_RULE_LIMIT": str(settings.rule_limit),
        "NEWSWATCH_DELIVERY_RETRY_BASE": str(settings.delivery_retry_base_s),
        "NEWSWATCH_MAX_ALERT_AGE": str(settings.max_alert_age_s),
        "NEWSWATCH_DIGEST_INTERVAL": str(settings.digest_interval_s),
    }
    if settings.smtp_host:
        env.update(SMTP_HOST=settings.smtp_host, SMTP_PORT=str(settings.smtp_port))
    if settings.kafka_bootstrap_servers:
        env["KAFKA_BOOTSTRAP_SERVERS"] = settings.kafka_bootstrap_servers
    env.update(kafka_security_env(settings))
    if settings.slack_bot_token is not None:
        env["SLACK_BOT_TOKEN"] = settings.slack_bot_token.get_secret_value()
        env["SLACK_API_URL"] = settings.slack_api_url
    return env


def kafka_security_env(settings: Settings) -> dict[str, str]:
    """The ``KAFKA_SECURITY_PROTOCOL`` / ``KAFKA_SSL_*`` / ``KAFKA_SASL_*`` of ``settings``."""
    env = {
        "KAFKA_SECURITY_PROTOCOL": settings.kafka_security_protocol,
        "KAFKA_SSL_CHECK_HOSTNAME": str(settings.kafka_ssl_check_hostname).lower(),
        "NEWSWATCH_KAFKA_CONNECT_TIMEOUT": str(settings.kafka_connect_timeout_s),
        "NEWSWATCH_CREATE_TOPICS": str(settings.create_topics).lower(),
    }
    for name, path in (
        ("KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile),
        ("KAFKA_SSL_CERTFILE", settings.kafka_ssl_certfile),
        ("KAFKA_SSL_KEYFILE", settings.kafka_ssl_keyfile),
    ):
        if path is not None:
            env[name] = str(path)
    if settings.kafka_sasl_mechanism:
        env["KAFKA_SASL_MECHANISM"] = settings.kafka_sasl_mechanism
    for name, secret in (
        ("KAFKA_SASL_USERNAME", settings.kafka_sasl_username),
        ("KAFKA_SASL_PASSWORD", settings.kafka_sasl_password),
        ("KAFKA_SSL_KEY_PASSWORD", settings.kafka_ssl_key_password),
    ):
        if secret is not None:
            env[name] = secret.get_secret_value()
    return env


class MemoryOutbox:
    """An ``Outbox`` that keeps sent records in memory: ``records[topic] -> [(key, value)]``."""

    def __init__(self) -> None:
        self.records: dict[str, list[tuple[bytes | None, bytes]]] = {}
        self.flushes = 0

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Keep one record."""
        self.records.setdefault(topic, []).append((key, value))

    async def flush(self) -> None:
        """Count flushes (nothing is pending in memory)."""
        self.flushes += 1

    def values(self, topic: str) -> list[dict[str, Any]]:
        """Decoded JSON values sent to ``topic``."""
        return [orjson.loads(v) for _, v in self.records.get(topic, [])]


# --------------------------------------------------------------------------- fault-test helpers


class FlakySlack(FakeSlack):
    """``FakeSlack`` that fails ``chat.postMessage`` at random rates, or always while down.

    ``rates`` maps a fault kind (``ratelimited``, ``server_error``, ``error``) to the share of
    calls that get it, drawn from a generator seeded with ``seed``; ``go_down()`` answers every
    call with a 500 until ``come_up()``. Faults queued with ``fail()`` still come first.
    ``on_accept(message)`` runs (in the server's thread) after a message was accepted and
    before the answer is sent: a crash test can kill the poster exactly there.
    """

    def __init__(
        self,
        *,
        rates: Mapping[str, float] | None = None,
        seed: int = 0,
        retry_after: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rates = dict(rates or {})
        if sum(self.rates.values()) > 1.0:
            raise ValueError("fault rates add up to more than 1")
        self.retry_after = retry_after
        self.down = False
        self.on_accept: Callable[[dict[str, Any]], None] | None = None
        self._random = random.Random(seed)

    def go_down(self) -> None:
        """From now on every ``chat.postMessage`` gets a 500 (an outage)."""
        self.down = True

    def come_up(self) -> None:
        """End the outage; random faults (if any) continue."""
        self.down = False

    def _post_message(self, record: SlackRequest, params: dict[str, Any]) -> web.Response:
        count = len(self.messages)
        response = super()._post_message(record, params)
        if self.on_accept is not None and len(self.messages) > count:
            self.on_accept(self.messages[-1])
        return response

    def _next_fault(self, method: str) -> Fault | None:
        queued = super()._next_fault(method)
        if queued is not None or method != "chat.postMessage":
            return queued
        if self.down:
            return Fault("server_error", method)
        roll = self._random.random()
        for kind, rate in self.rates.items():
            if roll < rate:
                return Fault(kind, method, retry_after=self.retry_after)
            roll -= rate
        return None


class SlackThread:
    """Serve a ``FakeSlack`` from a background thread, so worker subprocesses can reach it.

    with SlackThread(FlakySlack(rates={"ratelimited": 0.3})) as slack:
        env["SLACK_API_URL"] = slack.url
        ...
        slack.messages()            # a snapshot of the accepted messages
    """

    def __init__(self, slack: FakeSlack | None = None) -> None:
        self.slack = slack if slack is not None else FakeSlack()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-slack", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL for ``SLACK_API_URL``."""
        return self.slack.url

    def start(self, timeout: float = 10.0) -> str:
        """Start the loop thread and the server; returns ``url``."""
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.slack.start(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and the loop thread (idempotent)."""
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.slack.stop(), self._loop).result(timeout)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
        self._loop.close()

    def messages(self) -> list[dict[str, Any]]:
        """A snapshot of the accepted ``chat.postMessage`` calls, in arrival order."""
        return list(self.slack.messages)

    def outcomes(self) -> dict[str, int]:
        """How many ``chat.postMessage`` calls ended how (``ok``, ``fault:ratelimited``...)."""
        counts: dict[str, int] = {}
        for request in list(self.slack.requests):
            if request.method == "chat.postMessage":
                counts[request.outcome] = counts.get(request.outcome, 0) + 1
        return counts

    def __enter__(self) -> SlackThread:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def term_watchlist(rules: Mapping[str, tuple[str, str]], *, severity: str = "high") -> str:
    """Watch-list YAML with one rule per entry ``rule id → (term, channel spec)``."""
    lines = ["version: 1", "rules:"]
    for rule_id, (term, channel) in rules.items():
        lines += [
            f"  - id: {json.dumps(rule_id)}",
            f"    title: {json.dumps('Watch ' + term)}",
            f"    severity: {severity}",
            f"    all: [{json.dumps('term:' + term)}]",
            "    within: article",
            f"    channels: [{json.dumps(channel)}]",
        ]
    return "\n".join(lines) + "\n"


def local_watchlist(folder: Path) -> Path:
    """The bundled example watch-list with its rule routed only to console and file.

    For tests whose worker has no Slack or SMTP: with the example's own channels the worker
    is (rightly) not ready and logs an ERROR for each channel it cannot reach.
    """
    from streams.settings import DEFAULT_WATCHLIST

    text = DEFAULT_WATCHLIST.read_text(encoding="utf-8")
    text = text.replace(
        'channels: [console, file, "slack:#sec-alerts", "email:secops@example.com"]',
        "channels: [console, file]",
    )
    text = text.replace("include: [packs/espionage.yaml]", "include: [espionage]")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` in one step (a poller never reads a half-written file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, interval: float = 0.2) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def web_json(port: int, path: str, *, timeout: float = 5.0) -> tuple[int, Any]:
    """GET ``http://127.0.0.1:<port><path>``: status and decoded JSON body."""
    response = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=timeout)
    return response.status_code, response.json()


def scrape_metrics(port: int, *, timeout: float = 5.0) -> list[tuple[str, dict[str, str], float]]:
    """GET ``/metrics`` of a worker: every sample as ``(name, labels, value)``."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).text
    return [
        (sample.name, dict(sample.labels), float(sample.value))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def metric_value(
    samples: Iterable[tuple[str, dict[str, str], float]], name: str, **labels: str
) -> float:
    """Sum of the samples called ``name`` whose labels include ``labels``."""
    return sum(
        value
        for sample, have, value in samples
        if sample == name and all(have.get(k) == v for k, v in labels.items())
    )


async def aproduce_values(
    bootstrap: str,
    topic: str,
    records: Iterable[tuple[bytes | None, bytes | None]],
    *,
    max_request_size: int = 16 * 1024 * 1024,
    client: Mapping[str, Any] | None = None,
) -> int:
    """Produce raw ``(key, value)`` records in order (acks=all); returns how many were sent."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        max_request_size=max_request_size,
        **(client or {}),
    )
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await producer.flush()
        for future in futures:
            await future
        return len(futures)
    finally:
        await producer.stop()


def produce_values(
    bootstrap: str, topic: str, records: Iterable[tuple[bytes | None, bytes | None]], **options: Any
) -> int:
    """Blocking ``aproduce_values``."""
    return asyncio.run(aproduce_values(bootstrap, topic, records, **options))


async def agroup_lag(
    bootstrap: str, group: str, topic: str, client: Mapping[str, Any] | None = None
) -> int | None:
    """Records of ``topic`` the consumer ``group`` has not committed yet; None when unknown."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(client or {}))
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, **(client or {})
    )
    await admin.start()
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
        if not parts:
            return None
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        ends = await _exact_end_offsets(consumer, tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        lag = 0
        for tp in tps:
            meta = committed.get(tp)
            position = meta.offset if meta is not None and meta.offset >= 0 else 0
            lag += max(0, ends[tp] - position)
        return lag
    finally:
        await consumer.stop()
        await admin.close()


def group_lag(
    bootstrap: str, group: str, topic: str, client: Mapping[str, Any] | None = None
) -> int | None:
    """Blocking ``agroup_lag``."""
    return asyncio.run(agroup_lag(bootstrap, group, topic, client))


async def _exact_end_offsets(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """End offsets confirmed by reading the last batch of each partition.

    The embedded broker answers ListOffsets(latest) with the base offset of the last batch
    plus one, which under-counts when that batch holds several records.
    """
    ends = dict(await consumer.end_offsets(tps))
    consumer.assign(tps)
    for tp in tps:
        consumer.seek(tp, max(0, ends[tp] - 1))
    while True:
        batch = await consumer.getmany(timeout_ms=300)
        if not batch:
            return ends
        for tp, messages in batch.items():
            if messages:
                ends[tp] = max(ends[tp], messages[-1].offset + 1)
