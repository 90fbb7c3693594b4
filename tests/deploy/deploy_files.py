"""Readers for the deploy/ wiring tests: paths, Dockerfile stages, allowed env names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def settings_aliases() -> set[str]:
    """Every environment name Settings reads: validation aliases plus ``<SECRET>_FILE``."""
    names: set[str] = set()
    for info in Settings.model_fields.values():
        alias = info.validation_alias
        assert isinstance(alias, str)
        names.add(alias)
        if SecretStr in getattr(info.annotation, "__args__", (info.annotation,)):
            names.add(f"{alias}_FILE")
    return names


def settings_default(name: str) -> Any:
    """The default value of one Settings field."""
    return Settings.model_fields[name].default


def load_yaml(path: Path) -> Any:
    """One YAML document, parsed safely."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@dataclass
class Stage:
    """One ``FROM`` stage of a Dockerfile: base, name and (KEYWORD, arguments) instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        """Arguments of every instruction with this keyword."""
        return [a for k, a in self.instructions if k == keyword]


def parse_dockerfile(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages; continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.IGNORECASE)
            assert m, line
            base = re.sub(r"\$\{(\w+)\}", lambda g: global_args.get(g.group(1), ""), m.group(1))
            stages.append(Stage(base, m.group(2)))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            global_args[name.strip()] = default.strip().strip('"')
        else:
            stages[-1].instructions.append((keyword, rest.strip()))
    return global_args, stages
