"""Fixtures of the deploy/ wiring tests: the parsed Dockerfile, compose file and manifests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from deploy_files import DEPLOY, K8S, Stage, load_yaml, parse_dockerfile


@pytest.fixture(scope="session")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    """deploy/Dockerfile, parsed."""
    return parse_dockerfile(DEPLOY / "Dockerfile")


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/docker-compose.yml, parsed (YAML anchors and merge keys resolved)."""
    return load_yaml(DEPLOY / "docker-compose.yml")


@pytest.fixture(scope="session")
def k8s() -> dict[tuple[str, str], dict[str, Any]]:
    """Every Kubernetes object in deploy/k8s by (kind, name)."""
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects
