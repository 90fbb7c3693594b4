"""deploy/prometheus-rules.yml: valid for a real promtool (Debian's prometheus 2.42), its
unit tests pass, and every metric it names is one a newswatch worker exports."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.pipeline.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus-rules.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    """promtool, installed by scripts/ensure-prometheus.sh when possible; else skip."""
    subprocess.run(["sh", str(ROOT / "scripts" / "ensure-prometheus.sh")], check=False, timeout=600)
    found = shutil.which("promtool")
    if found is None:
        pytest.skip(
            "promtool not installed: run scripts/ensure-prometheus.sh (apt-get install prometheus)"
        )
    return found


# the worker knows only `en`: no language detector whose models load at start
NO_PACKS = {"NEWSWATCH_DETECT_PACK_LANGUAGES": "false"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=DEPLOY, capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_rules_and_the_config(promtool: str) -> None:
    """`promtool check rules` finds all rules; `check config` loads them via rule_files."""
    rules = _run(promtool, "check", "rules", "prometheus-rules.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    count = sum(len(g["rules"]) for g in yaml.safe_load(RULES.read_text())["groups"])
    assert f"SUCCESS: {count} rules found" in rules.stdout
    config = _run(promtool, "check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_promtool_rule_unit_tests_pass(promtool: str) -> None:
    """The alerts fire (and stay quiet) as the unit tests in prometheus-rules.test.yml say."""
    done = _run(promtool, "test", "rules", "prometheus-rules.test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_metric_in_the_rules_is_exported() -> None:
    """Each newswatch_* name in an expression exists on a worker's /metrics."""
    metrics = Metrics()
    metrics.dead_lettered("alerts.dlq", "DeliveryError")
    metrics.sources_health([{"source": "https://f.example/rss", "incidents": []}])
    metrics.set_consumer_lag("articles.raw", 0, 3)
    exported = set(re.findall(r"^(newswatch_\w+)", metrics.render().decode(), re.M))
    used = set()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"newswatch_\w+", rule["expr"]))
    assert used and used <= exported, used - exported


@pytest.mark.broker
def test_real_prometheus_scrapes_a_worker_and_fires_the_dead_letter_alert(
    promtool: str, broker: Any, make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    """A real Prometheus scrapes a worker on loopback with the example rules loaded; two
    alerts dead-lettered (a Slack channel without token) make NewswatchAlertsDeadLettered fire."""
    import asyncio

    from schemas.records import RawArticle
    from streams.ingest.producer import ArticleProducer
    from streams.kafka.broker import free_port
    from streams.kafka.topics import ensure_topics
    from streams.testing import (
        WorkerProcess,
        metric_value,
        scrape_metrics,
        settings_env,
        term_watchlist,
        wait_until,
    )

    server = shutil.which("prometheus")
    if server is None:
        pytest.skip("the prometheus server is not installed: run scripts/ensure-prometheus.sh")
    (tmp_path / "watchlist.yaml").write_text(term_watchlist({"q": ("Quokkafire", "slack:#x")}))
    settings = make_settings(broker, watchlist=tmp_path / "watchlist.yaml")
    asyncio.run(ensure_topics(settings))
    worker = WorkerProcess(  # English only: no detector
        {**settings_env(settings), "NEWSWATCH_LANGUAGES": "en", **NO_PACKS},
        web_port=free_port(),
        log_path=tmp_path / "worker.log",
    )
    prom_port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {
                        "job_name": "newswatch",
                        "static_configs": [{"targets": [f"127.0.0.1:{worker.web_port}"]}],
                    }
                ],
            }
        )
    )

    async def produce(n: int) -> None:
        async with ArticleProducer(settings) as producer:
            text = f"The Quokkafire botnet hit network number {n} overnight, operators said."
            await producer.produce(
                RawArticle(
                    id=f"q{n}", title=f"Quokkafire {n}", text=text, url=f"https://x.example/{n}"
                )
            )
            await producer.flush()

    def dead_letters() -> float:
        return metric_value(
            scrape_metrics(worker.web_port),
            "newswatch_dead_letters_total",
            topic=settings.topic("alerts.dlq"),
        )

    def firing() -> bool:
        import httpx

        try:
            body = httpx.get(f"http://127.0.0.1:{prom_port}/api/v1/alerts", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        return any(
            a["labels"]["alertname"] == "NewswatchAlertsDeadLettered" and a["state"] == "firing"
            for a in body["data"]["alerts"]
        )

    worker.start()
    prom_log = (tmp_path / "prometheus.log").open("wb")
    prom = subprocess.Popen(
        [
            server,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{prom_port}",
        ],
        stdout=prom_log,
        stderr=subprocess.STDOUT,
    )
    try:
        worker.wait_ready(90, failing={"channels"})
        asyncio.run(produce(1))
        assert wait_until(lambda: dead_letters() >= 1, 60), worker.log_tail()
        time.sleep(3)  # Prometheus has seen the counter at 1: the next letter is an increase
        assert not firing()
        asyncio.run(produce(2))
        assert wait_until(lambda: dead_letters() >= 2, 60), worker.log_tail()
        assert wait_until(firing, 60), (tmp_path / "prometheus.log").read_text()[-3000:]
    finally:
        prom.terminate()
        prom.wait(30)
        prom_log.close()
        worker.stop()
