"""deploy/Dockerfile: multi-stage, non-root, no compilers in the final image, wired to the code."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from deploy_files import DEPLOY, ROOT, Stage, load_yaml, settings_aliases, settings_default

from streams.pipeline.web import HEALTH_PATH

BUILD_TOOLS = ("gcc", "g++", "build-essential", "clang", "make", "cmake", "cargo", "rustc")


def final_stage(stages: list[Stage]) -> Stage:
    """The last stage: what the image runs."""
    return stages[-1]


def test_two_stages_on_python_311_slim(dockerfile) -> None:
    """A builder and a final stage, both on python:3.11-slim."""
    _, stages = dockerfile
    assert len(stages) >= 2
    assert {stage.base for stage in stages} == {"python:3.11-slim"}
    assert stages[0].name == "builder"


def test_build_tools_only_in_the_builder(dockerfile) -> None:
    """The builder installs build-essential; the final stage installs no compiler at all."""
    _, stages = dockerfile
    builder_runs = " ".join(stages[0].args("RUN"))
    assert "build-essential" in builder_runs
    for run in final_stage(stages).args("RUN"):
        words = set(re.split(r"[\s;&|]+", run))
        assert not words & set(BUILD_TOOLS), run
        assert "apt-get install" not in run and "apk add" not in run, run


def test_final_stage_copies_only_the_built_environment(dockerfile) -> None:
    """The final stage takes the virtualenv from the builder, no source tree or tool chain."""
    _, stages = dockerfile
    copies = final_stage(stages).args("COPY")
    assert copies == ["--from=builder /opt/newswatch /opt/newswatch"]


def test_final_stage_runs_as_non_root_matching_kubernetes(dockerfile) -> None:
    """USER is a non-zero uid, the same uid the Deployment's securityContext requires."""
    _, stages = dockerfile
    (user,) = final_stage(stages).args("USER")
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0
    pod = load_yaml(DEPLOY / "k8s" / "deployment.yaml")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == int(uid)


def test_spacy_models_build_argument_installs_wheels(dockerfile) -> None:
    """ARG SPACY_MODELS defaults to empty and is pip-installed only when given."""
    _, stages = dockerfile
    builder = stages[0]
    assert 'SPACY_MODELS=""' in builder.args("ARG")
    assert any("pip install ${SPACY_MODELS}" in run and "-n" in run for run in builder.args("RUN"))


def env_of(stage: Stage) -> dict[str, str]:
    """ENV key=value pairs of a stage."""
    env: dict[str, str] = {}
    for arg in stage.args("ENV"):
        for m in re.finditer(r"(\w+)=(\S+)", arg):
            env[m.group(1)] = m.group(2)
    return env


def test_newswatch_env_names_exist_in_settings(dockerfile) -> None:
    """Every NEWSWATCH_*/KAFKA_*/SLACK_* name set in the image is read by Settings."""
    _, stages = dockerfile
    names = {name for stage in stages for name in env_of(stage)}
    ours = {n for n in names if not n.startswith(("PYTHON", "PIP_")) and n != "PATH"}
    assert ours and ours <= settings_aliases()


def test_web_port_healthcheck_and_expose_agree(dockerfile) -> None:
    """EXPOSE, NEWSWATCH_WEB_PORT and the HEALTHCHECK default port equal Settings.web_port."""
    _, stages = dockerfile
    final = final_stage(stages)
    port = str(settings_default("web_port"))
    assert env_of(final)["NEWSWATCH_WEB_PORT"] == port
    assert env_of(final)["NEWSWATCH_WEB_HOST"] == "0.0.0.0"
    assert final.args("EXPOSE") == [port]
    (healthcheck,) = final.args("HEALTHCHECK")
    command = json.loads(healthcheck.split("CMD", 1)[1].strip())
    script = command[-1]
    assert f"/health' % os.environ.get('NEWSWATCH_WEB_PORT', '{port}')" in script
    assert HEALTH_PATH == "/health"


def test_entrypoint_is_the_console_script(dockerfile) -> None:
    """ENTRYPOINT runs the `newswatch` console script declared in pyproject.toml."""
    _, stages = dockerfile
    final = final_stage(stages)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert json.loads(final.args("ENTRYPOINT")[0]) == ["newswatch"]
    assert "newswatch" in scripts
    assert json.loads(final.args("CMD")[0]) == ["worker"]


def test_builder_copies_what_the_package_build_needs(dockerfile) -> None:
    """COPY sources exist and cover pyproject, its readme and every packaged top-level dir."""
    _, stages = dockerfile
    sources: set[str] = set()
    for copy in stages[0].args("COPY"):
        *srcs, _dest = copy.split()
        sources.update(srcs)
    for src in sources:
        assert (ROOT / src).exists(), f"COPY source {src} is missing"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {p.rstrip("*") for p in packages} <= sources
    assert {"pyproject.toml", project["project"]["readme"]} <= sources


@pytest.mark.parametrize("pattern", ["**/__pycache__", ".git", "tests"])
def test_build_context_ignores_noise(pattern: str) -> None:
    """The Dockerfile-specific ignore file keeps caches, git and tests out of the context."""
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert pattern in ignored
