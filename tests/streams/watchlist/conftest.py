"""Factories for watch-list tests: write YAML files, compile watch-lists, read samples."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from streams.settings import SAMPLES_DIR
from streams.watchlist import CompiledWatchlist, compile_watchlist, load_watchlist, match_text

REPO = Path(__file__).resolve().parents[3]
SAMPLES = SAMPLES_DIR  # the bundled samples the demo ingests
EXAMPLE = REPO / "streams" / "watchlist" / "examples" / "watchlist.yaml"


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """Write dedented YAML text to a file under tmp_path and return its path."""

    def write(text: str, name: str = "watchlist.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return write


@pytest.fixture
def compile_yaml(write_yaml: Callable[..., Path]) -> Callable[[str], CompiledWatchlist]:
    """Load and compile a watch-list given as YAML text."""

    def compile_(text: str) -> CompiledWatchlist:
        return compile_watchlist(load_watchlist(write_yaml(text)))

    return compile_


@pytest.fixture
def watchlist(write_yaml: Callable[..., Path]) -> Callable[..., CompiledWatchlist]:
    """Build a one-rule watch-list from Python data: concepts, entities and the rule's keys."""

    def build(
        *,
        concepts: dict[str, Any] | None = None,
        entities: dict[str, Any] | None = None,
        include: list[str] | None = None,
        rules: list[dict[str, Any]] | None = None,
        **rule: Any,
    ) -> CompiledWatchlist:
        if rules is None:
            rules = [{"id": "r", "title": "test rule", **rule}]
        doc = {
            "version": 1,
            "include": include or [],
            "entities": entities or {},
            "concepts": concepts or {},
            "rules": rules,
        }
        return compile_watchlist(load_watchlist(write_yaml(json.dumps(doc, ensure_ascii=False))))

    return build


@pytest.fixture
def fired() -> Callable[..., list[str]]:
    """Rule ids that fire on a text (title optional, language optional)."""

    def run(
        compiled: CompiledWatchlist, text: str, lang: str | None = None, title: str = ""
    ) -> list[str]:
        return [m.rule_id for m in match_text(compiled, "a1", title, text, lang)]

    return run


@pytest.fixture
def samples() -> Path:
    """The bundled samples folder (the demo ingests every file in it)."""
    return SAMPLES


@pytest.fixture
def read_sample() -> Callable[[str], tuple[str, str]]:
    """(title, body) of a bundled sample: the first non-empty line is the title."""

    def read(name: str) -> tuple[str, str]:
        lines = (SAMPLES / name).read_text(encoding="utf-8").splitlines()
        first = next(i for i, line in enumerate(lines) if line.strip())
        return lines[first].strip(), "\n".join(lines[first + 1 :])

    return read
