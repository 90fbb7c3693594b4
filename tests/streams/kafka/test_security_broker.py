"""Real TLS (mutual, through a TLS-terminating proxy) and real SASL (Tansu --authentication).

Every newswatch command runs as a subprocess with the security settings in its environment,
as an operator would run it; the proxy is the only way to the broker, so each client must do
a TLS handshake, verify the proxy's certificate for 127.0.0.1 and present its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tls_support import SecureBroker

from streams.kafka.broker import free_port
from streams.kafka.security import KafkaSecurity
from streams.settings import SAMPLES_DIR, Settings
from streams.testing import (
    WorkerProcess,
    local_watchlist,
    produce_values,
    read_topic,
    settings_env,
)

pytestmark = pytest.mark.broker

REPO = Path(__file__).resolve().parents[3]
SEED_TITLE = "Belgien überwacht Chinas Alibaba wegen Spionagebedenken"
SASL_PASSWORD = "sasl-Pw-8c1f"


def _base_env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("NEWSWATCH_", "KAFKA_", "SLACK_"))
    }


def _cli(
    env: dict[str, str], *args: str, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "streams.cli", *args]
    return subprocess.run(
        cmd,
        cwd=REPO,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _commands(settings: Settings) -> list[list[str]]:
    """Every command that opens Kafka clients: ingest, worker, run, replay, bench e2e."""
    return [
        ["ingest", str(SAMPLES_DIR)],
        ["worker"],
        ["run"],
        ["replay", "--watchlist", str(settings.watchlist), "--since", "1d", "--no-progress"],
        ["bench", "e2e", "--count", "10", "--rules", "5"],
    ]


def _tls_settings(tls: SecureBroker, tmp: Path, **overrides: object) -> Settings:
    tag = uuid.uuid4().hex[:8]
    values: dict[str, object] = {
        "kafka_bootstrap_servers": tls.bootstrap,
        "kafka_security_protocol": "SSL",
        "kafka_ssl_cafile": tls.pki.ca,
        "kafka_ssl_certfile": tls.pki.client_cert,
        "kafka_ssl_keyfile": tls.pki.client_key,
        "kafka_ssl_key_password": tls.pki.client_key_password,
        "data_dir": tmp / "data",
        "app_id": f"nw-tls-{tag}",
        "topic_prefix": f"tls{tag}.",
        "partitions": 2,
        "session_timeout_s": 4.0,
        "log_level": "info",
        "alert_channels": ["console", "file"],
        "watchlist": local_watchlist(tmp / "wl"),  # every channel it names is configured
    }
    values.update(overrides)
    return Settings.load(**values)


class RunProcess(WorkerProcess):
    """``newswatch run`` (not ``worker``) in a subprocess."""

    def start(self) -> RunProcess:
        """Spawn ``newswatch run`` with output to ``log_path``."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        return self


@pytest.fixture(scope="module")
def tls_run(
    tls_broker: SecureBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, RunProcess]]:
    """``newswatch run`` against the broker behind the mutual-TLS proxy, until ready."""
    tmp = tmp_path_factory.mktemp("tls-run")
    settings = _tls_settings(tls_broker, tmp)
    env = {**_base_env(), **settings_env(settings)}
    worker = RunProcess(env, web_port=free_port(), log_path=tmp / "run.log")
    worker.start()
    try:
        worker.wait_ready(120)
        yield settings, worker
    finally:
        worker.stop()


def _alert_titles(settings: Settings) -> list[str]:
    titles = []
    for path in sorted((Path(settings.data_dir) / "alerts").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                titles.append(json.loads(line)["alert"]["article"]["title"])
    return titles


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(predicate())  # type: ignore[operator]


def test_tls_end_to_end_run_ingest_replay(
    tls_run: tuple[Settings, RunProcess], tls_broker: SecureBroker, tmp_path: Path
) -> None:
    """Over mutual TLS: run is ready, ingest → worker → alert in the file channel, replay reads."""
    settings, worker = tls_run
    env = settings_env(settings)
    before = tls_broker.proxy.connections
    ingested = _cli(env, "ingest", str(SAMPLES_DIR))
    assert ingested.returncode == 0, ingested.stderr[-2000:]
    assert "produced 4 article(s)" in ingested.stderr
    assert _wait(lambda: SEED_TITLE in _alert_titles(settings), 90), worker.log_tail()
    assert _alert_titles(settings) == [SEED_TITLE]
    client = KafkaSecurity.from_settings(settings).client_kwargs()
    alerts = read_topic(tls_broker.bootstrap, settings.topic("alerts"), timeout=30, client=client)
    assert [a["value"]["article"]["title"] for a in alerts] == [SEED_TITLE]
    report = tmp_path / "replay.json"
    replayed = _cli(
        env,
        "replay",
        "--watchlist",
        str(settings.watchlist),
        "--since",
        "1d",
        "--no-progress",
        "--json",
        str(report),
        "--report",
        str(tmp_path / "replay.html"),
    )
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    assert json.loads(report.read_text())["stats"]["records_read"] >= 4
    assert tls_broker.proxy.connections > before  # every client came through the TLS proxy
    poison = [(b"poison", b"not json")]
    produce_values(tls_broker.bootstrap, settings.topic("articles.raw"), poison, client=client)
    dead = read_topic(
        tls_broker.bootstrap, settings.topic("articles.raw.dlq"), timeout=60, client=client
    )
    assert len(dead) == 1 and dead[0]["value"]["error"]
    status = httpx.get(f"http://127.0.0.1:{worker.web_port}/ready", timeout=5)
    assert status.status_code == 200 and status.json()["checks"]["broker"]["ok"]
    secret = tls_broker.pki.client_key_password
    for text in (
        worker.log_tail(10_000),
        ingested.stderr,
        replayed.stderr,
        status.text,
        json.dumps(dead[0]["value"]),
    ):
        assert secret not in text


def test_wrong_ca_fails_fast_with_one_line(tls_broker: SecureBroker, tmp_path: Path) -> None:
    """Every command with a CA that did not sign the broker's certificate: one line, exit 1."""
    settings = _tls_settings(tls_broker, tmp_path, kafka_ssl_cafile=tls_broker.pki.wrong_ca)
    env = settings_env(settings)
    for args in _commands(settings):
        started = time.monotonic()
        done = _cli(env, *args, timeout=60)
        elapsed = time.monotonic() - started
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 1, (args, done.stderr[-2000:])
        assert lines[-1].startswith("newswatch: error: TLS certificate verify failed"), lines
        assert "KAFKA_SSL_CAFILE" in lines[-1] and "Traceback" not in done.stderr
        assert tls_broker.pki.client_key_password not in done.stderr
        print(f"{args[0]}: wrong CA refused in {elapsed:.1f}s")


def test_missing_ca_file_fails_at_start(tls_broker: SecureBroker, tmp_path: Path) -> None:
    """A CA path that does not exist is named before any connection is tried (exit 2)."""
    env = settings_env(_tls_settings(tls_broker, tmp_path))
    env["KAFKA_SSL_CAFILE"] = str(tmp_path / "nope.pem")
    done = _cli(env, "ingest", str(SAMPLES_DIR), timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"newswatch: error: KAFKA_SSL_CAFILE={tmp_path / 'nope.pem'}: no such file"
    )


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_sasl_wrong_password_fails_fast(
    sasl_broker: SecureBroker, tmp_path: Path, mechanism: str
) -> None:
    """SASL_SSL against Tansu --authentication: refused credentials → one line, no secret."""
    settings = _tls_settings(
        sasl_broker,
        tmp_path,
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_certfile=None,
        kafka_ssl_keyfile=None,
        kafka_ssl_key_password=None,
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username="newswatch",
        kafka_sasl_password=SASL_PASSWORD,
    )
    env = settings_env(settings)
    for args in _commands(settings):
        done = _cli(env, *args, timeout=60)
        last = done.stderr.strip().splitlines()[-1]
        assert done.returncode == 1, done.stderr[-2000:]
        assert last.startswith("newswatch: error: SASL authentication failed"), last
        assert mechanism in last and "KAFKA_SASL_PASSWORD" in last
        assert SASL_PASSWORD not in done.stderr and "Traceback" not in done.stderr


@pytest.mark.servers
def test_bench_e2e_over_mutual_tls(tls_broker: SecureBroker, tmp_path: Path) -> None:
    """``bench e2e`` with the security settings: every Kafka client of it goes over TLS."""
    env = settings_env(_tls_settings(tls_broker, tmp_path))
    env = {k: v for k, v in env.items() if k.startswith("KAFKA_")}
    args = [
        "bench",
        "e2e",
        "--rate",
        "20",
        "--count",
        "30",
        "--rules",
        "40",
        "--partitions",
        "2",
        "--warmup",
        "12",
        "--idle",
        "1",
    ]
    before = tls_broker.proxy.connections
    done = _cli(env, *args, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    (phase,) = json.loads(done.stdout)["phases"]
    assert phase["processed"] == 30 and phase["slack"]["posted"] == phase["slack"]["expected"]
    assert tls_broker.proxy.connections > before
    assert tls_broker.pki.client_key_password not in done.stdout + done.stderr


def test_ready_probe_reports_refused_credentials_without_the_secret(
    sasl_broker: SecureBroker, tmp_path: Path
) -> None:
    """The worker's /ready broker check (every 5 s) says why in one line, never the password."""
    from streams.kafka.probe import BrokerProbe
    from streams.pipeline.web import HealthState

    settings = _tls_settings(
        sasl_broker,
        tmp_path,
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_certfile=None,
        kafka_ssl_keyfile=None,
        kafka_ssl_key_password=None,
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="newswatch",
        kafka_sasl_password=SASL_PASSWORD,
    )
    probe = BrokerProbe(settings, settings.bootstrap_servers)  # what Worker.check_broker asks
    ok, detail = asyncio.run(probe.reachable())
    health = HealthState()
    health.broker_checked(ok, detail)
    broker = health.checks()["broker"]
    assert ok is False and broker["ok"] is False
    assert broker["detail"].startswith("SASL authentication failed")
    assert SASL_PASSWORD not in json.dumps(health.checks())


def test_plain_mechanism_the_broker_lacks_fails_within_the_timeout(
    sasl_broker: SecureBroker, tmp_path: Path
) -> None:
    """Tansu has no SASL PLAIN: ingest stops after NEWSWATCH_KAFKA_CONNECT_TIMEOUT, one line."""
    settings = _tls_settings(
        sasl_broker,
        tmp_path,
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_certfile=None,
        kafka_ssl_keyfile=None,
        kafka_ssl_key_password=None,
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="newswatch",
        kafka_sasl_password=SASL_PASSWORD,
        kafka_connect_timeout_s=3.0,
    )
    done = _cli(settings_env(settings), "ingest", str(SAMPLES_DIR), timeout=60)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith("newswatch: error: cannot connect to Kafka") and "PLAIN" in line
    assert SASL_PASSWORD not in done.stderr
