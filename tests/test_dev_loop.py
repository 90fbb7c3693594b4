"""The developer loop: CI runs the README's test command then `make check`; tiers; warnings."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import subprocess
import tomllib
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_warning_fails_the_test_that_caused_it() -> None:
    """pytest runs with warnings as errors, so a new warning cannot go unnoticed."""
    with pytest.raises(DeprecationWarning):
        warnings.warn("deprecated", DeprecationWarning, stacklevel=1)


def test_every_tolerated_warning_is_justified_in_a_comment() -> None:
    """filterwarnings starts with "error"; each exception after it has a comment above it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    filters = config["tool"]["pytest"]["ini_options"]["filterwarnings"]
    assert filters[0] == "error"
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = text[text.index("filterwarnings = [") : text.index("]", text.index("filterwarnings"))]
    lines = [line.strip() for line in block.splitlines()[1:]]
    for before, line in itertools.pairwise(lines):
        if line.startswith('"') and line != '"error",':
            assert before.startswith("#"), f"no reason given for {line}"


def test_ci_runs_the_readme_test_command_then_make_check() -> None:
    """.ci/run stops at the first failure and runs `make test` (the README's), then `make check`."""
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip() for line in script.splitlines() if line.strip().startswith("make")]
    assert commands == ["make test", "make check"]
    assert "set -euo pipefail" in script
    assert "make test " in (ROOT / "README.md").read_text(encoding="utf-8")


def test_fast_tier_leaves_out_broker_faults_browser_and_eval_tests() -> None:
    """`make test-fast` deselects exactly the slow markers declared in pyproject."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile[makefile.index("\ntest-fast:") :].split("\n\n")[0]
    expression = re.search(r"-m '([^']+)'", recipe)
    assert expression is not None
    assert expression.group(1) == "not broker and not faults and not browser and not eval"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    markers = {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"broker", "faults", "browser", "eval"} <= markers


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["test", "test-fast"])
@pytest.mark.parametrize(("pytest_exit", "make_fails"), [(5, True), (1, True), (0, False)])
def test_make_fails_when_pytest_collects_nothing(
    target: str, pytest_exit: int, make_fails: bool, tmp_path: Path
) -> None:
    """pytest's exit code 5 (no tests collected) fails `make test` and `make test-fast`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python"
    fake.write_text(f"#!/bin/sh\nexit {pytest_exit}\n", encoding="utf-8")
    fake.chmod(0o755)
    (bin_dir / ".installed").touch()  # newer than pyproject.toml: no install
    env = {**os.environ, "NEWSWATCH_SKIP_CHROMIUM_INSTALL": "1"}
    done = subprocess.run(
        ["make", "-s", "-C", str(ROOT), target, f"BIN={bin_dir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode != 0) is make_fails, done.stderr
