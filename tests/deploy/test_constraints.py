"""constraints.txt: the tested versions, installed by the image and by `make test` alike."""

from __future__ import annotations

import re
import tomllib

from deploy_files import ROOT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from streams.kafka.compat import TESTED_VERSIONS

CONSTRAINTS = ROOT / "constraints.txt"


def pins() -> dict[str, str]:
    """``{canonical name: version}`` of every line of constraints.txt."""
    found: dict[str, str] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, version = line.partition("==")
        assert sep and version and " " not in line, f"not a plain pin: {line!r}"
        found[canonicalize_name(name)] = version
    return found


def project() -> dict[str, object]:
    """The [project] table of pyproject.toml."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


def test_builder_installs_newswatch_with_the_constraints(dockerfile) -> None:
    """The builder copies constraints.txt and every pip install of the project uses it."""
    _, stages = dockerfile
    builder = stages[0]
    copied = {src for copy in builder.args("COPY") for src in copy.split()[:-1]}
    assert "constraints.txt" in copied
    installs = [
        cmd
        for run in builder.args("RUN")
        for cmd in re.split(r"&&|;", run)
        if re.search(r"pip install\b.*\s\.(\[[\w,-]+\])?\s*$", cmd.strip())
    ]
    assert installs, "the builder never runs `pip install .`"
    for cmd in installs:
        assert "-c constraints.txt" in cmd, cmd


def test_make_test_installs_with_the_same_constraints() -> None:
    """`make test` tests the versions the image gets: its install uses constraints.txt."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"pip install .*-c constraints\.txt -e '\.\[test\]'", makefile)
    assert re.search(r"^lock:", makefile, re.MULTILINE)


def test_every_dependency_is_pinned_within_its_declared_range() -> None:
    """Each runtime and test dependency has a pin that satisfies pyproject's specifier."""
    pinned = pins()
    declared = [Requirement(r) for r in project()["dependencies"]]  # type: ignore[attr-defined]
    declared += [Requirement(r) for r in project()["optional-dependencies"]["test"]]  # type: ignore[index]
    missing = [str(r) for r in declared if canonicalize_name(r.name) not in pinned]
    assert not missing, f"not in constraints.txt (run `make lock`): {missing}"
    outside = {
        r.name: pinned[canonicalize_name(r.name)]
        for r in declared
        if not r.specifier.contains(pinned[canonicalize_name(r.name)], prereleases=True)
    }
    assert not outside, f"pins outside pyproject's ranges (run `make lock`): {outside}"


def test_faust_and_aiokafka_pins_are_the_versions_compat_was_tested_with() -> None:
    """constraints.txt pins the Faust and aiokafka versions streams/kafka/compat.py patches."""
    pinned = pins()
    for name, version in TESTED_VERSIONS.items():
        assert pinned[canonicalize_name(name)] == version


def test_constraints_hold_neither_newswatch_nor_links() -> None:
    """Only name==version lines: no newswatch itself, no editable or URL requirements."""
    assert "newswatch" not in pins()
    text = CONSTRAINTS.read_text(encoding="utf-8")
    assert " @ " not in text and "-e " not in text
