"""deploy/k8s: Deployment, ConfigMaps, Secret, PDB and Service wired to the code and each other."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pytest
from deploy_files import DEPLOY, K8S, load_yaml, settings_aliases, settings_default

from streams.pipeline.web import HEALTH_PATH, READY_PATH
from streams.settings import Settings

SECRET_NAMES = {"SLACK_BOT_TOKEN", "SMTP_PASSWORD"}
#: secrets whose feature is off while their value in the Secret is empty
OPTIONAL_SECRET_NAMES = {"SLACK_SIGNING_SECRET", "NEWSWATCH_LINK_SECRET"}


def deployment(k8s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The newswatch Deployment."""
    return k8s[("Deployment", "newswatch")]


def pod(k8s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The pod template spec."""
    return deployment(k8s)["spec"]["template"]["spec"]


def container(k8s) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The one worker container."""
    (only,) = pod(k8s)["containers"]
    return only


def env(k8s) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The container's explicit env as name -> value."""
    return {item["name"]: item["value"] for item in container(k8s)["env"]}


def config_env(k8s) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Data of every ConfigMap the container takes its environment from."""
    data: dict[str, str] = {}
    for source in container(k8s)["envFrom"]:
        data.update(k8s[("ConfigMap", source["configMapRef"]["name"])]["data"])
    return data


def quantity(value: str | int) -> float:
    """A Kubernetes CPU or memory quantity as a float (cores or bytes)."""
    m = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi)?", str(value))
    assert m, value
    factor = {None: 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[m.group(2)]
    return float(m.group(1)) * factor


def mount_of(k8s, path: str) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """The (volumeMount, volume) whose mountPath is ``path``."""
    (mount,) = [m for m in container(k8s)["volumeMounts"] if m["mountPath"] == path]
    (volume,) = [v for v in pod(k8s)["volumes"] if v["name"] == mount["name"]]
    return mount, volume


def test_kustomization_lists_every_manifest() -> None:
    """kustomization.yaml names exactly the manifests in deploy/k8s and sets no namespace."""
    kustomization = load_yaml(K8S / "kustomization.yaml")
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert "namespace" not in kustomization


def test_manifests_are_namespace_free(k8s) -> None:
    """No object pins a namespace."""
    assert k8s
    assert all("namespace" not in obj["metadata"] for obj in k8s.values())


def test_deployment_runs_several_replicas_with_a_disruption_budget(k8s) -> None:
    """At least two replicas, and the PDB keeps some but not all of them."""
    replicas = deployment(k8s)["spec"]["replicas"]
    budget = k8s[("PodDisruptionBudget", "newswatch")]["spec"]
    assert replicas >= 2
    assert 1 <= budget["minAvailable"] < replicas


def test_selectors_match_the_pod_labels(k8s) -> None:
    """Deployment, PDB and Service select exactly the pod template's labels."""
    labels = deployment(k8s)["spec"]["template"]["metadata"]["labels"]
    selectors = [
        deployment(k8s)["spec"]["selector"]["matchLabels"],
        k8s[("PodDisruptionBudget", "newswatch")]["spec"]["selector"]["matchLabels"],
        k8s[("Service", "newswatch-metrics")]["spec"]["selector"],
    ]
    for selector in selectors:
        assert selector.items() <= labels.items()


def test_web_port_matches_settings_and_config(k8s) -> None:
    """The named port 'web' is Settings.web_port and the ConfigMap's NEWSWATCH_WEB_PORT."""
    (port,) = container(k8s)["ports"]
    assert port["name"] == "web"
    assert port["containerPort"] == settings_default("web_port")
    assert config_env(k8s)["NEWSWATCH_WEB_PORT"] == str(port["containerPort"])
    assert config_env(k8s)["NEWSWATCH_WEB_HOST"] == "0.0.0.0"


@pytest.mark.parametrize(
    ("probe", "path"),
    [("livenessProbe", HEALTH_PATH), ("startupProbe", HEALTH_PATH), ("readinessProbe", READY_PATH)],
)
def test_probes_hit_the_paths_streams_web_serves(k8s, probe: str, path: str) -> None:
    """Liveness/startup probe /health, readiness probe /ready, on the web port."""
    get = container(k8s)[probe]["httpGet"]
    assert get["path"] == path
    assert get["port"] in ("web", settings_default("web_port"))


def test_service_exposes_metrics_on_the_web_port(k8s) -> None:
    """The metrics Service targets the named web port, with the same port number."""
    (port,) = k8s[("Service", "newswatch-metrics")]["spec"]["ports"]
    assert port["targetPort"] == "web"
    assert port["port"] == settings_default("web_port")


def test_resources_have_requests_within_limits(k8s) -> None:
    """CPU and memory requests and limits are set, requests not above limits."""
    resources = container(k8s)["resources"]
    for kind in ("cpu", "memory"):
        request, limit = resources["requests"][kind], resources["limits"][kind]
        assert 0 < quantity(request) <= quantity(limit)


def test_runs_non_root_without_privileges(k8s) -> None:
    """Pod runs as a non-root uid; the container drops all capabilities, no escalation."""
    pod_security = pod(k8s)["securityContext"]
    security = container(k8s)["securityContext"]
    assert pod_security["runAsNonRoot"] is True and pod_security["runAsUser"] != 0
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert security["readOnlyRootFilesystem"] is True


def test_read_only_root_still_has_a_writable_data_dir(k8s) -> None:
    """NEWSWATCH_DATA_DIR is an emptyDir mount, writable despite the read-only root."""
    mount, volume = mount_of(k8s, config_env(k8s)["NEWSWATCH_DATA_DIR"])
    assert "emptyDir" in volume and not mount.get("readOnly", False)


def test_env_names_exist_in_settings(k8s) -> None:
    """Every ConfigMap key and env name the container gets is read by Settings."""
    names = set(config_env(k8s)) | set(env(k8s))
    assert not names - settings_aliases()


def test_no_secret_in_plain_environment(k8s) -> None:
    """Tokens and passwords are not ConfigMap keys or env values, only *_FILE paths."""
    names = set(config_env(k8s)) | set(env(k8s))
    assert not names & SECRET_NAMES
    assert {f"{name}_FILE" for name in SECRET_NAMES} <= names


def test_secret_files_point_into_the_mounted_secret(k8s) -> None:
    """Each *_FILE path is a key of the Secret, mounted as a directory; values are placeholders."""
    for name in SECRET_NAMES:
        path = PurePosixPath(env(k8s)[f"{name}_FILE"])
        mount, volume = mount_of(k8s, str(path.parent))
        secret = k8s[("Secret", volume["secret"]["secretName"])]
        assert mount["readOnly"] is True and "subPath" not in mount
        assert "REPLACE" in secret["stringData"][path.name]


def test_watchlist_configmap_is_mounted_as_a_directory_for_reload(k8s) -> None:
    """NEWSWATCH_WATCHLIST is a key of the ConfigMap mounted without subPath (kubelet updates)."""
    path = PurePosixPath(env(k8s)["NEWSWATCH_WATCHLIST"])
    mount, volume = mount_of(k8s, str(path.parent))
    assert "subPath" not in mount
    configmap = k8s[("ConfigMap", volume["configMap"]["name"])]
    assert path.name in configmap["data"]
    assert "items" not in volume["configMap"]


def test_watchlist_configmap_equals_the_deployed_file(k8s) -> None:
    """The ConfigMap carries exactly deploy/watchlist.yaml (which the loader accepts)."""
    configmap = k8s[("ConfigMap", "newswatch-watchlist")]
    assert configmap["data"]["watchlist.yaml"] == (DEPLOY / "watchlist.yaml").read_text("utf-8")


def test_configmap_environment_parses_as_settings(k8s, monkeypatch, tmp_path) -> None:
    """ConfigMap data plus the container env (secret files faked) is accepted by Settings."""
    for name in SECRET_NAMES:
        (tmp_path / name).write_text("placeholder")
    for name, value in {**config_env(k8s), **env(k8s)}.items():
        monkeypatch.setenv(name, value)
    for name in SECRET_NAMES:
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
    for name in OPTIONAL_SECRET_NAMES:  # left empty, as in secret.yaml
        (tmp_path / name).write_text("")
        monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
    (tmp_path / "kafka-password").write_text("placeholder")  # the KafkaUser secret's file
    monkeypatch.setenv("KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "kafka-password"))
    settings = Settings.load()
    assert not settings.embedded_broker
    assert settings.web_port == settings_default("web_port")
    assert settings.partitions >= deployment(k8s)["spec"]["replicas"]
    assert settings.public_dump()["slack_bot_token"] == "**********"


def test_optional_secrets_are_mounted_files_that_stay_off_while_empty(
    k8s, monkeypatch, tmp_path
) -> None:
    """Slack signing and link secrets come as Secret files; empty there, their features are off."""
    names = set(config_env(k8s)) | set(env(k8s))
    assert not names & OPTIONAL_SECRET_NAMES
    files: dict[str, str] = {}
    for name in OPTIONAL_SECRET_NAMES:
        path = PurePosixPath(env(k8s)[f"{name}_FILE"])
        mount, volume = mount_of(k8s, str(path.parent))
        secret = k8s[("Secret", volume["secret"]["secretName"])]
        assert mount["readOnly"] is True and "subPath" not in mount
        assert secret["stringData"][path.name] == ""
        files[name] = secret["stringData"][path.name]
    assert "NEWSWATCH_PUBLIC_URL" in config_env(k8s)

    def load(values: dict[str, str], public_url: str) -> Settings:
        for name, value in {**config_env(k8s), **env(k8s)}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("NEWSWATCH_PUBLIC_URL", public_url)
        for name in [*SECRET_NAMES, *OPTIONAL_SECRET_NAMES, "KAFKA_SASL_PASSWORD"]:
            (tmp_path / name).write_text(values.get(name, "placeholder"))
            monkeypatch.setenv(f"{name}_FILE", str(tmp_path / name))
        return Settings.load()

    off = load(files, config_env(k8s)["NEWSWATCH_PUBLIC_URL"])
    assert off.slack_signing_secret is None and off.link_secret is None
    assert off.public_url is None
    on = load({name: "s3cret-" + "x" * 20 for name in OPTIONAL_SECRET_NAMES}, "https://nw.example")
    assert on.slack_signing_secret is not None and on.link_secret is not None
