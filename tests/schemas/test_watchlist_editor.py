"""Where ops edit watch-lists: the published JSON Schema and the pre-commit hook.

The schema (schemas/watchlist.schema.json) lets an editor validate a watch-list while it is
typed; it must accept every shipped watch-list and pack and reject the typical mistakes
that ``newswatch watchlist check`` reports. The hook runs that check on every commit.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ruamel.yaml import YAML

from schemas.watchlist import CHANNEL_KINDS
from streams.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schemas" / "watchlist.schema.json"
EXAMPLE = ROOT / "streams" / "watchlist" / "examples" / "watchlist.yaml"
SHIPPED = [EXAMPLE, ROOT / "deploy" / "watchlist.yaml"]
PACKS = sorted((ROOT / "streams" / "watchlist" / "packs").glob("*.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")

GOOD_RULE = "  - {id: r1, title: Example, all: ['term:acme']}\n"


@functools.cache
def validator() -> jsonschema.protocols.Validator:
    """A validator of the committed schema, for the dialect it declares."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    cls.check_schema(schema)
    return cls(schema)


def load(text: str) -> Any:
    """YAML as the loader reads it (safe, YAML 1.2)."""
    return YAML(typ="safe", pure=True).load(text)


def schema_errors(document: Any) -> list[str]:
    """The schema's complaints about ``document``, as readable strings."""
    return [error.message for error in validator().iter_errors(document)]


def run_cli(argv: list[str]) -> int:
    """Run the CLI like the console script does; its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    return 0 if code is None else int(code)


@pytest.mark.parametrize("path", SHIPPED + PACKS, ids=lambda p: p.name)
def test_schema_accepts_shipped_watchlists_and_packs(path: Path) -> None:
    """The example, the deployment watch-list and every concept pack are valid documents."""
    assert schema_errors(load(path.read_text(encoding="utf-8"))) == []


MISTAKES = {
    "unknown rule key": "rules:\n  - {id: r1, title: t, all: ['term:acme'], withn: article}\n",
    "unknown top-level key": "rulez: []\n",
    "bad severity": "rules:\n  - {id: r1, title: t, severity: urgent, all: ['term:acme']}\n",
    "misspelt scope": "rules:\n  - {id: r1, title: t, within: paragrph, all: ['term:acme']}\n",
    "token scope without a number": (
        "rules:\n  - {id: r1, title: t, within: tokens, all: ['term:a']}\n"
    ),
    "rule without conditions": "rules:\n  - {id: r1, title: t, none: ['term:acme']}\n",
    "rule with empty conditions": "rules:\n  - {id: r1, title: t, all: [], any: []}\n",
    "unknown channel kind": "rules:\n  - {id: r1, title: t, all: ['term:a'], channels: [pager]}\n",
    "channel with an empty target": (
        "rules:\n  - {id: r1, title: t, all: ['term:a'], channels: ['slack:']}\n"
    ),
    "condition without a kind": "rules:\n  - {id: r1, title: t, all: [acme]}\n",
    "rule without a title": "rules:\n  - {id: r1, all: ['term:acme']}\n",
    "id with a space": "rules:\n  - {id: 'r 1', title: t, all: ['term:acme']}\n",
    "entity without aliases": "entities:\n  acme: {labels: [ORG]}\n",
    "concept without terms": "concepts:\n  fraud: {exclude: {en: [x]}}\n",
    "version 2": "version: 2\n",
}


@pytest.mark.parametrize("text", MISTAKES.values(), ids=MISTAKES.keys())
def test_schema_rejects_what_the_checker_rejects(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typical mistake fails the editor's schema check and `newswatch watchlist check`."""
    assert schema_errors(load(text)) != []
    path = tmp_path / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    assert run_cli(["watchlist", "check", str(path)]) == 1
    assert f"{path}:" in capsys.readouterr().out  # FILE:LINE:COL problem lines


def test_schema_accepts_every_channel_kind_the_model_knows() -> None:
    """Each channel kind (bare and with a target) passes the schema: they share one list."""
    for kind in CHANNEL_KINDS:
        for spec in (kind, f"{kind}:ops@example.org" if kind == "email" else f"{kind}:x"):
            rule = f"{{id: r1, title: t, all: ['term:a'], channels: ['{spec}']}}"
            document = load(f"rules:\n  - {rule}\n")
            assert schema_errors(document) == [], spec


def test_a_valid_rule_passes_both() -> None:
    """The smallest valid watch-list passes the schema (the mistakes above are the only cause)."""
    assert schema_errors(load("rules:\n" + GOOD_RULE)) == []


def test_shipped_example_names_the_schema_in_its_modeline() -> None:
    """The example's first line is the yaml-language-server modeline, pointing at the schema."""
    first = EXAMPLE.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, first
    assert (EXAMPLE.parent / match.group(1)).resolve() == SCHEMA_FILE


def test_docs_show_the_modeline_and_the_hook() -> None:
    """docs/watchlist.md shows the modeline and how to use the pre-commit hook."""
    doc = (ROOT / "docs" / "watchlist.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=" in doc
    assert "id: newswatch-watchlist-check" in doc


def hooks() -> Iterator[dict[str, Any]]:
    """The hook definitions of .pre-commit-hooks.yaml."""
    yield from yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_pre_commit_hook_runs_the_check_on_watchlist_files() -> None:
    """The shipped hook runs `newswatch watchlist check` on watch-list and pack YAML files."""
    (hook,) = [h for h in hooks() if h["id"] == "newswatch-watchlist-check"]
    assert hook["entry"] == "newswatch watchlist check"
    assert hook["language"] == "python" and hook.get("pass_filenames", True)
    files = re.compile(hook["files"])
    for path in ("watchlist.yaml", "deploy/watchlist.yaml", "ops/prod-watchlist.yml"):
        assert files.search(path), path
    assert files.search("streams/watchlist/packs/espionage.yaml")
    for path in ("docker-compose.yml", "deploy/k8s/deployment.yaml", "watchlist.json"):
        assert not files.search(path), path


def test_check_takes_several_files_as_pre_commit_passes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several files: each is checked and reported; exit 1 when any of them is bad."""
    bad = tmp_path / "bad-watchlist.yaml"
    bad.write_text("rules:\n  - {id: r1, title: t, severity: urgent, all: ['term:a']}\n")
    entry = next(h["entry"] for h in hooks()).split()[1:]  # without the program name
    assert run_cli([*entry, str(EXAMPLE), *map(str, PACKS[:2])]) == 0
    assert capsys.readouterr().out.count(": OK, version sha256:") == 3
    assert run_cli([*entry, str(EXAMPLE), str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{EXAMPLE}: OK" in out and f"{bad}:2:" in out
