"""Worker subprocesses: ``WorkerProcess`` and the environment that configures one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import httpx

from streams.settings import Settings

__all__ = ["WorkerProcess", "kafka_security_env", "settings_env"]


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

    def dump_stacks(self) -> None:
        """Ask the worker to log every thread's and task's stack and its consumer's state.

        SIGQUIT: threads (faulthandler, even with a blocked event loop); SIGUSR1: asyncio
        tasks and the consumer's partitions and offsets (streams/pipeline/runner.py).
        """
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGUSR1)
            time.sleep(0.5)
            os.kill(self.proc.pid, signal.SIGQUIT)

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
        "NEWSWATCH_DETECT_PACK_LANGUAGES": str(settings.detect_pack_languages).lower(),
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
