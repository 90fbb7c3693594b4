"""deploy/prometheus-rules.yml: valid for a real promtool (Debian's prometheus 2.42), its
unit tests pass, and every metric it names is one a newswatch worker exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

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
    exported = set(re.findall(r"^(newswatch_\w+)", metrics.render().decode(), re.M))
    used = set()
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            used |= set(re.findall(r"newswatch_\w+", rule["expr"]))
    assert used and used <= exported, used - exported
