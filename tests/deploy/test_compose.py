"""deploy/docker-compose.yml and prometheus.yml: Kafka KRaft, topic init, two workers, scraping."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from deploy_files import DEPLOY, ROOT, load_yaml, settings_aliases, settings_default

from streams.pipeline.web import METRICS_PATH
from streams.settings import TOPIC_NAMES, Settings

_SUBST = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def substitute(value: Any, env: dict[str, str] | None = None) -> str:
    """Compose-style ``${VAR:-default}`` substitution (``$$`` stays a literal ``$``)."""
    env = env or {}
    text = str(value)
    return _SUBST.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), text)


def workers(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Services that run `newswatch worker`."""
    return {
        name: svc for name, svc in compose["services"].items() if svc.get("command") == ["worker"]
    }


def test_kafka_is_apache_kafka_in_kraft_mode(compose) -> None:
    """One apache/kafka node acting as broker and controller, no ZooKeeper."""
    kafka = compose["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "zookeeper" not in str(compose).lower()
    assert "healthcheck" in kafka


def test_topic_init_creates_exactly_the_newswatch_topics(compose) -> None:
    """TOPICS of the init job equals streams.settings.TOPIC_NAMES; partitions come from env."""
    init = compose["services"]["topic-init"]
    assert init["environment"]["TOPICS"].split() == list(TOPIC_NAMES)
    script = init["command"][0]
    assert "for topic in $${TOPICS}" in script and '--partitions "$${PARTITIONS}"' in script
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_partition_count_is_one_variable_for_topics_and_workers(compose) -> None:
    """NEWSWATCH_PARTITIONS drives topic-init and workers, defaulting to Settings.partitions."""
    init_partitions = compose["services"]["topic-init"]["environment"]["PARTITIONS"]
    assert init_partitions == f"${{NEWSWATCH_PARTITIONS:-{settings_default('partitions')}}}"
    for svc in workers(compose).values():
        assert svc["environment"]["NEWSWATCH_PARTITIONS"] == init_partitions
    assert substitute(init_partitions, {"NEWSWATCH_PARTITIONS": "12"}) == "12"


def test_two_workers_on_the_compose_kafka(compose) -> None:
    """Two worker services reach Kafka at the advertised kafka:9092 after topic-init."""
    found = workers(compose)
    assert len(found) == 2
    advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for svc in found.values():
        bootstrap = svc["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        assert bootstrap == "kafka:9092" and f"//{bootstrap}" in advertised
        assert svc["depends_on"]["topic-init"]["condition"] == "service_completed_successfully"
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()


def test_worker_env_names_exist_in_settings(compose) -> None:
    """Every variable given to a worker is a Settings alias (or a secret's _FILE variant)."""
    for name, svc in workers(compose).items():
        unknown = set(svc["environment"]) - settings_aliases()
        assert not unknown, f"{name}: {unknown}"


def test_worker_web_port_is_published_and_listens_on_all_interfaces(compose) -> None:
    """NEWSWATCH_WEB_PORT (= Settings default) is the container side of the port mapping."""
    host_ports = set()
    for svc in workers(compose).values():
        env = svc["environment"]
        assert env["NEWSWATCH_WEB_PORT"] == str(settings_default("web_port"))
        assert env["NEWSWATCH_WEB_HOST"] == "0.0.0.0"
        (mapping,) = svc["ports"]
        host, container = mapping.split(":")
        assert container == env["NEWSWATCH_WEB_PORT"]
        host_ports.add(host)
    assert len(host_ports) == 2


def test_watchlist_is_mounted_where_the_env_points(compose) -> None:
    """./watchlist.yaml is mounted read-only at NEWSWATCH_WATCHLIST in every worker."""
    for svc in workers(compose).values():
        (volume,) = svc["volumes"]
        source, target, mode = volume.split(":")
        assert (DEPLOY / source).is_file()
        assert target == svc["environment"]["NEWSWATCH_WATCHLIST"]
        assert mode == "ro"


def test_deployed_watchlist_is_valid() -> None:
    """deploy/watchlist.yaml passes the real loader and compiler (what the workers run)."""
    from streams.watchlist.compile import compile_watchlist
    from streams.watchlist.load import load_watchlist

    compiled = compile_watchlist(load_watchlist(DEPLOY / "watchlist.yaml"))
    assert compiled.version


def test_secrets_come_from_compose_secrets(compose) -> None:
    """Every *_FILE points at /run/secrets/<name> of a declared secret; no secret in plain env."""
    declared = compose["secrets"]
    expected = {
        "SLACK_BOT_TOKEN_FILE": ("slack_bot_token", "SLACK_BOT_TOKEN"),
        "SLACK_SIGNING_SECRET_FILE": ("slack_signing_secret", "SLACK_SIGNING_SECRET"),
        "NEWSWATCH_LINK_SECRET_FILE": ("link_secret", "NEWSWATCH_LINK_SECRET"),
    }
    for svc in workers(compose).values():
        env = svc["environment"]
        for variable, (secret, shell_variable) in expected.items():
            assert variable.removesuffix("_FILE") not in env
            path = Path(env[variable])
            assert path.parent == Path("/run/secrets")
            assert path.name == secret and secret in svc["secrets"]
            assert declared[secret] == {"environment": shell_variable}


def test_worker_environment_parses_as_settings(compose, monkeypatch, tmp_path) -> None:
    """The worker environment (defaults substituted) is accepted by Settings.load.

    Secrets are files as compose writes them: the bot token set, the signing and link
    secrets empty (their shell variables unset), which leaves buttons and links off.
    """
    env = next(iter(workers(compose).values()))["environment"]
    for name, value in env.items():
        monkeypatch.setenv(name, substitute(value))
        if name.endswith("_FILE"):
            secret = tmp_path / Path(value).name
            secret.write_text("xoxb-test\n" if name == "SLACK_BOT_TOKEN_FILE" else "")
            monkeypatch.setenv(name, str(secret))
    settings = Settings.load()
    assert settings.bootstrap_servers == "kafka:9092" and not settings.embedded_broker
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-test"
    assert settings.slack_signing_secret is None and settings.link_secret is None
    assert str(settings.watchlist) == "/etc/newswatch/watchlist.yaml"


def test_prometheus_scrapes_both_workers_on_the_metrics_path(compose) -> None:
    """prometheus.yml targets every worker at its web port and the path pipeline.web serves."""
    prometheus = compose["services"]["prometheus"]
    source, target, _ = prometheus["volumes"][0].split(":")
    assert target == "/etc/prometheus/prometheus.yml"
    config = load_yaml(DEPLOY / source)
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == METRICS_PATH
    targets = {t for group in job["static_configs"] for t in group["targets"]}
    expected = {
        f"{svc.get('hostname', name)}:{svc['environment']['NEWSWATCH_WEB_PORT']}"
        for name, svc in workers(compose).items()
    }
    assert targets == expected


def _docker_compose_works() -> str | None:
    """None when `docker compose version` runs, else why not."""
    if shutil.which("docker") is None:
        return "no docker client installed"
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker compose version` failed: {exc}"
    if probe.returncode != 0:
        return f"`docker compose version` failed: {(probe.stderr or probe.stdout).strip()[:200]}"
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    """`docker compose config` validates and renders the file (skipped without docker compose)."""
    reason = _docker_compose_works()
    if reason:
        pytest.skip(reason)
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test"}
    result = subprocess.run(
        ["docker", "compose", "-f", str(DEPLOY / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
