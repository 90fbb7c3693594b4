"""Hot reload: poll a watch-list and its includes, validate, swap atomically.

``WatchlistReloader(path)`` loads the file at once (``WatchlistError`` if it is invalid: a
worker does not start on a bad list) and keeps the active ``CompiledWatchlist`` in
``.current``. Each poll — ``check()`` (synchronous, call it from a thread; the Faust timer
does) or the built-in asyncio task (``start()`` / ``stop()``, every ``poll_s`` seconds, via
``check_once()``) — hashes the content of the main file and of every file the last load
touched (includes, and files named by the last error). When it changed:

- valid, new version: ``.current`` is replaced (one attribute assignment: readers see the
  old or the new list, never a mix), ``.last_error`` cleared, the active version logged,
  ``on_change(compiled)`` called (by ``check_once``; ``check`` returns True instead);
- invalid: the last good version stays, the error goes to ``.last_error`` (``status()`` for
  the health endpoint) and each problem is logged once as ``FILE:LINE:COL: message``.

A comment-only edit loads but keeps the version (content hash), so nothing is swapped.
Nothing raises out of the polling task: the worker never dies of a bad edit.

A poll ``stat``-s each watched file and reads it only when its identity, size or times
changed since the last poll (an unchanged file is not re-read, a refused one — too large,
not a regular file — is never read at all); only files inside the watch-list's folder tree
or the shipped packs are ever watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.watchlist._gc import gc_paused
from streams.watchlist._retire import drain, sole_owner
from streams.watchlist.compile import CompiledWatchlist, compile_watchlist
from streams.watchlist.errors import WatchlistError
from streams.watchlist.load import allowed_roots, inside_roots, load_watchlist, read_limited

__all__ = ["WatchlistReloader", "apply_entity_patterns"]

log = logging.getLogger("newswatch.watchlist")

OnChange = Callable[[CompiledWatchlist], Any]


class WatchlistReloader:
    """Owns the active compiled watch-list of a worker and keeps it fresh."""

    def __init__(
        self,
        path: Path | str,
        *,
        poll_s: float = 2.0,
        on_change: OnChange | None = None,
        load: bool = True,
    ) -> None:
        self.path = Path(path)
        self.poll_s = poll_s
        self.on_change = on_change
        self.current: CompiledWatchlist | None = None
        self.last_error: WatchlistError | None = None
        self.last_error_at: float | None = None
        self.loaded_at: float | None = None
        self.reloads = 0
        self._watched: list[Path] = [self.path]
        self._fingerprint: str | None = None
        #: per file: (stat signature, digest of its text) as of the last poll
        self._seen: dict[Path, tuple[tuple[int, ...], str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()
        #: replaced lists, freed piecewise by a later poll once nothing else holds them
        self._retired: list[CompiledWatchlist] = []
        if load:
            self.load_now()

    # ------------------------------------------------------------------ loading

    def load_now(self) -> CompiledWatchlist:
        """Load and compile synchronously (startup); raises ``WatchlistError`` when invalid."""
        compiled = compile_watchlist(load_watchlist(self.path))
        self._install(compiled)
        return compiled

    def _install(self, compiled: CompiledWatchlist) -> bool:
        changed = self.current is None or self.current.version != compiled.version
        if self.current is not None and self.current is not compiled:
            self._retired.append(self.current)
        self.current = compiled
        self.last_error = None
        self.last_error_at = None
        loaded = compiled.loaded
        if loaded is not None:
            texts = {f.path: f.text for f in loaded.files}
            self._watched = list(dict.fromkeys([self.path, *loaded.paths()]))
            # fingerprint of exactly what was loaded: a change after the load is seen
            self._fingerprint = _digest((p, _text_digest(texts.get(p))) for p in self._watched)
        if changed:
            self.loaded_at = time.time()
            log.warning(
                "watch-list %s active: %d rules, %d terms, from %s",
                compiled.version,
                len(compiled.rules),
                len(compiled.patterns),
                self.path,
            )
        return changed

    def _compute_fingerprint(self) -> str:
        return _digest((p, self._file_digest(p)) for p in self._watched)

    def _file_digest(self, path: Path) -> str | None:
        """Digest of a file's text, re-read only when its stat signature changed."""
        try:
            info = path.stat()
        except OSError:
            self._seen.pop(path, None)
            return None
        signature = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        seen = self._seen.get(path)
        if seen is not None and seen[0] == signature:
            return seen[1]
        try:
            raw = read_limited(path)
        except Exception:  # too large, not a regular file, unreadable: not read, by stat only
            digest = "<unreadable>" + repr(signature)
        else:
            digest = _text_digest(raw.decode("utf-8-sig", errors="replace")) or ""
        self._seen[path] = (signature, digest)
        return digest

    def _attempt(self) -> CompiledWatchlist | WatchlistError:
        try:
            return compile_watchlist(load_watchlist(self.path))
        except WatchlistError as exc:
            return exc

    def check(self) -> bool:
        """Poll once, synchronously (call it from a thread): reload when the files changed.

        True when a new version became active. Does not call ``on_change`` (the caller
        reacts to the return value); ``check_once`` is the async variant that does."""
        with self._lock:
            self._free_retired()
            if self._compute_fingerprint() == self._fingerprint:
                return False
            result = self._attempt()
            if isinstance(result, WatchlistError):
                self.last_error = result
                self.last_error_at = time.time()
                # also watch the files named by the problems (e.g. a new, broken include)
                roots = allowed_roots(self.path)
                extra = [
                    Path(p.file)
                    for p in result.problems
                    if Path(p.file) == self.path or inside_roots(Path(p.file), roots)
                ]
                self._watched = list(dict.fromkeys([*self._watched, *extra]))
                self._fingerprint = self._compute_fingerprint()
                active = self.current.version if self.current else "none"
                for problem in result.problems:
                    log.error("watch-list edit rejected, keeping %s: %s", active, problem)
                return False
            changed = self._install(result)
            if changed:
                self.reloads += 1
            self._free_retired()
            return changed

    def _free_retired(self) -> None:
        """Free (piece by piece, in this thread) replaced lists that nobody holds any more."""
        kept = []
        while self._retired:
            old = self._retired.pop()
            if sole_owner(old, holders=1):  # only ``old`` here
                drain(old)
            else:  # still matching an article somewhere: try again at the next poll
                kept.append(old)
            del old
        self._retired = kept

    async def check_once(self) -> bool:
        """Poll once without blocking the loop; on a new version call ``on_change``."""
        changed = await asyncio.to_thread(self.check)
        if changed and self.current is not None:
            await self._notify(self.current)
        return changed

    async def _notify(self, compiled: CompiledWatchlist) -> None:
        if self.on_change is None:
            return
        try:
            result = self.on_change(compiled)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("watch-list on_change callback failed for %s", compiled.version)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load (if not loaded yet; raises ``WatchlistError``) and start polling."""
        if self.current is None:
            await asyncio.to_thread(self.load_now)
        assert self.current is not None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="watchlist-reloader")

    async def stop(self) -> None:
        """Stop polling (idempotent)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the poller die
                log.exception("watch-list poll failed")

    # ------------------------------------------------------------------ health

    def status(self) -> dict[str, Any]:
        """For ``/health``: active version, when it was loaded, the last rejected edit."""
        current = self.current
        return {
            "ok": current is not None and self.last_error is None,
            "path": str(self.path),
            "version": current.version if current else None,
            "rules": len(current.rules) if current else 0,
            "loaded_at": self.loaded_at,
            "reloads": self.reloads,
            "last_error": str(self.last_error) if self.last_error else None,
            "last_error_at": self.last_error_at,
        }


def apply_entity_patterns(
    compiled: CompiledWatchlist, apply: Callable[[list[dict[str, str]]], Any]
) -> None:
    """``apply(compiled.entity_patterns())`` with the cyclic GC paused; call it in a thread.

    Listing and validating 20,000 aliases makes some 100,000 objects: a full collection
    they trigger scans the heap while holding the GIL (60 ms stalls of the event loop)."""
    with gc_paused():
        apply(compiled.entity_patterns())


def _text_digest(text: str | None) -> str | None:
    if text is None:
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def _digest(items: Any) -> str:
    digest = hashlib.sha256()
    for path, file_digest in items:
        digest.update(str(path).encode("utf-8", "surrogateescape") + b"\0")
        digest.update(b"<missing>" if file_digest is None else file_digest.encode("ascii"))
        digest.update(b"\0")
    return digest.hexdigest()
