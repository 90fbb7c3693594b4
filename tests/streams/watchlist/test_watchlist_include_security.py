"""Issue 13.3: includes stay inside the watch-list's folder tree (or the shipped packs), files
are checked with ``stat`` before reading, and no message echoes another file's content."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.watchlist import WatchlistError, WatchlistReloader, load_watchlist

SECRET = "root:*:19700:0:99999:7::: x\n"  # a YAML key no watch-list has, like /etc/shadow's
VALID = "rules:\n  - {id: r, title: t, all: ['term:spy']}\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A watch-list folder ``wl/`` next to a secret file outside it."""
    (tmp_path / "secret.yaml").write_text(SECRET, encoding="utf-8")
    folder = tmp_path / "wl"
    folder.mkdir()
    return folder


def problems(path: Path) -> list[str]:
    """The problem lines of loading ``path`` (empty when it loads)."""
    try:
        load_watchlist(path)
    except WatchlistError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "symlinked-folder"])
def test_include_outside_the_tree_is_refused_without_reading(tree: Path, how: str) -> None:
    """An absolute path, a ``..`` escape or a symlink out of the folder is refused at the
    include entry, and nothing of the outside file appears in the messages."""
    secret = tree.parent / "secret.yaml"
    entry = {
        "absolute": str(secret),
        "dotdot": "../secret.yaml",
        "symlink": "link.yaml",
        "symlinked-folder": "sub/secret.yaml",
    }[how]
    (tree / "link.yaml").symlink_to(secret)
    (tree / "sub").symlink_to(tree.parent)
    main = tree / "watchlist.yaml"
    main.write_text(f"include: [{entry!r}]\n" + VALID, encoding="utf-8")
    found = problems(main)
    assert len(found) == 1, found
    assert found[0].startswith(f"{main}:1:11: include '{entry}' refused")
    assert "outside" in found[0]
    assert "root:" not in found[0] and "19700" not in found[0]


def test_includes_inside_the_tree_and_packs_still_work(tree: Path) -> None:
    """A relative include in a subfolder, an in-tree symlink and a shipped pack all load."""
    (tree / "packs").mkdir()
    (tree / "packs" / "mine.yaml").write_text(
        "entities: {acme: {aliases: [Acme]}}\n", encoding="utf-8"
    )
    (tree / "alias.yaml").symlink_to(tree / "packs" / "mine.yaml")
    main = tree / "watchlist.yaml"
    main.write_text(
        "include: [packs/mine.yaml, espionage]\n"
        "rules:\n  - {id: r, title: t, all: ['entity:acme', 'concept:espionage']}\n",
        encoding="utf-8",
    )
    assert problems(main) == []
    main.write_text("include: [alias.yaml]\n" + VALID, encoding="utf-8")
    assert problems(main) == []


def test_device_file_is_not_read(tree: Path) -> None:
    """A main file that is a device (``/dev/zero``) is refused by ``stat``, not read forever."""
    found = problems(Path("/dev/zero"))
    assert found == ["/dev/zero:1:1: not a regular file: /dev/zero"]


def test_oversized_sparse_include_is_refused_before_reading(tree: Path) -> None:
    """A 3 GB sparse include is refused by its size, in a process limited to 1 GB of address
    space: reading it first would fail with MemoryError."""
    big = tree / "big.yaml"
    with big.open("wb") as f:
        f.truncate(3 << 30)
    main = tree / "watchlist.yaml"
    main.write_text("include: [big.yaml]\n" + VALID, encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from streams.watchlist import WatchlistError, load_watchlist
        try:
            load_watchlist({str(main)!r})
        except WatchlistError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"{big}:1:1: file larger than 20000000 bytes: {big}"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Names of the files opened for reading (``open``, ``os.open``, ``Path.read_bytes``)."""
    names: list[str] = []
    real_open, real_os_open, real_read_bytes = builtins.open, os.open, Path.read_bytes

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(str(file))
        return real_open(file, *args, **kwargs)

    def spy_os_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        names.append(str(file))
        return real_os_open(file, *args, **kwargs)

    def spy_read_bytes(self: Path) -> bytes:
        names.append(str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr(Path, "read_bytes", spy_read_bytes)
    yield names


def test_rejected_include_is_not_reread_by_polls(tree: Path, opened: list[str]) -> None:
    """A too-large include is never read; polls re-read nothing until a file changes, and
    fixing the include is picked up."""
    main = tree / "watchlist.yaml"
    main.write_text(VALID, encoding="utf-8")
    reloader = WatchlistReloader(main, poll_s=3600)
    big = tree / "big.yaml"
    with big.open("wb") as f:
        f.truncate(25_000_000)
    main.write_text("include: [big.yaml]\n" + VALID, encoding="utf-8")
    assert reloader.check() is False and reloader.last_error is not None
    assert "larger than" in str(reloader.last_error)
    opened.clear()
    for _ in range(3):
        assert reloader.check() is False
    assert opened == []  # nothing re-read: neither the unchanged main file nor big.yaml
    big.write_text("entities: {acme: {aliases: [Acme]}}\n", encoding="utf-8")
    assert reloader.check() is True
    assert reloader.last_error is None
    assert str(big) in opened
    assert all(Path(n).name != "big.yaml" or Path(n).stat().st_size < 100 for n in opened)


def test_ready_status_never_shows_an_outside_file(tree: Path) -> None:
    """The reloader's status (served by ``/ready``) names the refused include, not its lines."""
    main = tree / "watchlist.yaml"
    main.write_text(VALID, encoding="utf-8")
    reloader = WatchlistReloader(main, poll_s=3600)
    main.write_text("include: [../secret.yaml]\n" + VALID, encoding="utf-8")
    assert reloader.check() is False
    error = reloader.status()["last_error"]
    assert "refused" in error and "root:" not in error and "19700" not in error
