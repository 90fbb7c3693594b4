"""Test doubles and harnesses shipped as code: worker subprocesses and topic readers.

Used by the test-suite, ``newswatch bench e2e`` and anyone who wants to drive a real
pipeline from Python: ``WorkerProcess`` runs ``newswatch worker`` in a child process (exactly
what a user runs) and waits for its ``/ready`` endpoint; ``read_topic`` drains a topic.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.settings import Settings

__all__ = ["MemoryOutbox", "WorkerProcess", "aread_topic", "read_topic", "settings_env"]


class WorkerProcess:
    """``newswatch worker`` in a subprocess with the given environment."""

    def __init__(self, env: dict[str, str], *, web_port: int, log_path: Path) -> None:
        self.env = {**os.environ, **env, "NEWSWATCH_WEB_PORT": str(web_port)}
        self.web_port = web_port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Spawn the worker (its own process group, output to ``log_path``)."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"], env=self.env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until ``/ready`` answers 200; raise with the log tail if the worker died."""
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.web_port}/ready"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(url, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
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


async def aread_topic(bootstrap: str, topic: str, *, expect: int = 1,
                      timeout: float = 30.0) -> list[dict[str, Any]]:
    """Async ``read_topic``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
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
                    records.append({
                        "key": m.key, "value": orjson.loads(m.value) if m.value else None,
                        "partition": m.partition, "offset": m.offset, "timestamp": m.timestamp,
                    })
        return records
    finally:
        await consumer.stop()


def read_topic(bootstrap: str, topic: str, *, expect: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Read ``topic`` from the beginning until ``expect`` records arrived or ``timeout`` passed."""
    return asyncio.run(aread_topic(bootstrap, topic, expect=expect, timeout=timeout))


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
    }
    if settings.kafka_bootstrap_servers:
        env["KAFKA_BOOTSTRAP_SERVERS"] = settings.kafka_bootstrap_servers
    if settings.slack_bot_token is not None:
        env["SLACK_BOT_TOKEN"] = settings.slack_bot_token.get_secret_value()
        env["SLACK_API_URL"] = settings.slack_api_url
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
