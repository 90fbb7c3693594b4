"""Hot reload: validate, swap atomically, keep the last good version on a bad edit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.watchlist import CompiledWatchlist, WatchlistError, WatchlistReloader

V1 = "rules:\n  - {id: r1, title: one, all: ['term:spy']}\n"
V2 = "rules:\n  - {id: r2, title: two, all: ['term:mole']}\n"
BAD = "rules:\n  - {id: r3, title: three, all: ['concept:nope']}\n"


def test_loads_eagerly_and_reports_status(write_yaml: Callable[..., Path]) -> None:
    """The constructor loads the file; status() names the active version."""
    reloader = WatchlistReloader(write_yaml(V1))
    assert reloader.current is not None
    assert [r.id for r in reloader.current.rules] == ["r1"]
    status = reloader.status()
    assert status["ok"] is True and status["version"] == reloader.current.version
    assert status["last_error"] is None


def test_invalid_file_at_startup_raises(write_yaml: Callable[..., Path]) -> None:
    """A worker cannot start with an invalid watch-list: the error names file:line:col."""
    path = write_yaml(BAD)
    with pytest.raises(WatchlistError) as err:
        WatchlistReloader(path)
    assert str(err.value) == f"{path}:2:34: undefined concept 'nope'"


def test_change_bad_edit_and_fix(write_yaml: Callable[..., Path]) -> None:
    """A valid edit swaps; a bad edit keeps the last good version and records the error."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    first = reloader.current
    assert reloader.check() is False  # nothing changed
    path.write_text(V2, encoding="utf-8")
    assert reloader.check() is True
    second = reloader.current
    assert second is not None and first is not None and second.version != first.version
    path.write_text(BAD, encoding="utf-8")
    assert reloader.check() is False
    assert reloader.current is second
    assert reloader.last_error is not None
    assert f"{path}:2:" in str(reloader.last_error)
    assert (
        reloader.status()["ok"] is False and "undefined concept" in reloader.status()["last_error"]
    )
    assert reloader.check() is False  # the same bad content is not re-reported as a change
    path.write_text(V1, encoding="utf-8")
    assert reloader.check() is True
    assert reloader.last_error is None and reloader.current is not None
    assert reloader.current.version == first.version
    assert reloader.reloads == 2


def test_comment_only_edit_keeps_the_version(write_yaml: Callable[..., Path]) -> None:
    """An edit that does not change the content is not a new version."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    path.write_text("# a comment\n" + V1, encoding="utf-8")
    assert reloader.check() is False
    assert reloader.last_error is None


def test_included_pack_changes_are_seen(write_yaml: Callable[..., Path]) -> None:
    """Editing an included pack (main file untouched) reloads the watch-list."""
    pack = write_yaml("concepts: {c: {terms: {en: [spy]}}}\n", "pack.yaml")
    path = write_yaml("include: [pack.yaml]\nrules:\n  - {id: r, title: t, all: ['concept:c']}\n")
    reloader = WatchlistReloader(path)
    before = reloader.current
    pack.write_text("concepts: {c: {terms: {en: [spy, mole]}}}\n", encoding="utf-8")
    assert reloader.check() is True
    assert reloader.current is not before


def test_new_broken_include_is_watched_until_fixed(write_yaml: Callable[..., Path]) -> None:
    """A newly added include that is broken is watched, so fixing it alone recovers."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    pack = write_yaml("concepts: {c: {terms: {en: ['  ']}}}\n", "new.yaml")
    path.write_text("include: [new.yaml]\nrules:\n  - {id: r, title: t, all: ['concept:c']}\n")
    assert reloader.check() is False
    assert reloader.last_error is not None and "new.yaml:1:" in str(reloader.last_error)
    pack.write_text("concepts: {c: {terms: {en: [spy]}}}\n", encoding="utf-8")
    assert reloader.check() is True
    assert reloader.last_error is None


def test_deleted_file_keeps_last_good(write_yaml: Callable[..., Path]) -> None:
    """A deleted watch-list is an error; matching goes on with the last good version."""
    path = write_yaml(V1)
    reloader = WatchlistReloader(path)
    good = reloader.current
    path.unlink()
    assert reloader.check() is False
    assert reloader.current is good
    assert "file not found" in str(reloader.last_error)


async def test_polling_task_calls_on_change_and_survives_errors(
    write_yaml: Callable[..., Path],
) -> None:
    """start() polls; each new version reaches on_change, even after a callback raised."""
    path = write_yaml(V1)
    seen: list[str] = []
    changed = asyncio.Event()

    async def on_change(compiled: CompiledWatchlist) -> None:
        seen.append(compiled.rules[0].id)
        changed.set()
        if len(seen) == 1:
            raise RuntimeError("callback bug")  # must not stop the poller

    reloader = WatchlistReloader(path, poll_s=0.02, on_change=on_change)
    await reloader.start()
    try:
        path.write_text(V2, encoding="utf-8")
        await asyncio.wait_for(changed.wait(), timeout=20)
        changed.clear()
        path.write_text(V1, encoding="utf-8")
        await asyncio.wait_for(changed.wait(), timeout=20)
    finally:
        await reloader.stop()
    assert seen == ["r2", "r1"]
    await reloader.stop()  # idempotent


def test_restoring_the_previous_content_clears_the_error(tmp_path: Path) -> None:
    """Issue 12.7: a file restored to its last good content (same version) is a successful
    validation: the reload error is cleared although no new version became active."""
    from streams.watchlist import WatchlistReloader

    path = tmp_path / "w.yaml"
    good = "rules:\n  - {id: r, title: t, all: ['term:spy']}\n"
    path.write_text(good, encoding="utf-8")
    reloader = WatchlistReloader(path, poll_s=3600)
    version = reloader.status()["version"]
    path.write_text("rules: [", encoding="utf-8")
    assert reloader.check() is False and reloader.status()["last_error"]
    path.write_text(good, encoding="utf-8")
    assert reloader.check() is False  # no new version ...
    status = reloader.status()
    assert status["ok"] and status["last_error"] is None and status["version"] == version
