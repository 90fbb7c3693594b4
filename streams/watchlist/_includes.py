"""Read watch-list files defensively and confine includes to the allowed folders (issue 13.3)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_FILE_BYTES",
    "PACKS_DIR",
    "NotReadable",
    "Outside",
    "allowed_roots",
    "inside_roots",
    "read_limited",
    "resolve_include",
    "shipped_packs",
]

PACKS_DIR = Path(__file__).resolve().parent / "packs"
MAX_FILE_BYTES = 20_000_000


def shipped_packs() -> list[str]:
    """Names of the concept packs shipped with newswatch (``espionage``, …)."""
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))


class NotReadable(Exception):
    """A file refused before reading (not a regular file, too large)."""


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked with ``stat`` first
    (a FIFO, a device or a 3 GB sparse file is refused without reading); ``OSError`` as
    ``open`` raises it, ``NotReadable`` with the reason otherwise."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise NotReadable("not a regular file")
    if info.st_size > limit:
        raise NotReadable(f"file larger than {limit} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the stat
            raise NotReadable("not a regular file")
        raw = f.read(limit + 1)
    if len(raw) > limit:  # grew since the stat
        raise NotReadable(f"file larger than {limit} bytes")
    return raw


def allowed_roots(main: Path) -> tuple[Path, ...]:
    """Folders an include of ``main`` may resolve into: its own folder tree (as named and
    with symlinks resolved, e.g. a Kubernetes ConfigMap mount) and the shipped packs."""
    roots = [PACKS_DIR.resolve()]
    for folder in (main.parent, main.resolve().parent):
        try:
            roots.append(folder.resolve())
        except (OSError, RuntimeError):
            continue
    return tuple(dict.fromkeys(roots))


def inside_roots(path: Path, roots: tuple[Path, ...]) -> bool:
    """``path``, symlinks resolved, lies in one of ``roots`` (False when it cannot resolve)."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(resolved.is_relative_to(root) for root in roots)


@dataclass(frozen=True)
class Outside:
    """An include that resolves outside the allowed roots (``root``: the one to name)."""

    root: Path


def resolve_include(entry: str, base: Path, roots: tuple[Path, ...]) -> Path | Outside | None:
    """The file an include names, ``Outside`` when it names a place outside ``roots``
    (decided on the resolved path, before anything is opened: whether such a file exists
    is not revealed), else None (not found)."""
    candidates = [base / entry, PACKS_DIR / entry, PACKS_DIR / Path(entry).name]
    if not Path(entry).suffix:
        candidates += [base / f"{entry}.yaml", PACKS_DIR / f"{Path(entry).name}.yaml"]
    outside = False
    for candidate in candidates:
        if not inside_roots(candidate, roots):
            outside = True
            continue
        try:
            if candidate.is_file():
                return candidate
        except (OSError, ValueError):
            continue
    if outside and (
        Path(entry).is_absolute() or ".." in Path(entry).parts or _links_out(base, entry, roots)
    ):
        return Outside(roots[-1])
    return None


def _links_out(base: Path, entry: str, roots: tuple[Path, ...]) -> bool:
    """``entry`` exists in the including file's folder but leads out of it (a symlink)."""
    for candidate in (base / entry, base / f"{entry}.yaml"):
        try:
            if os.path.lexists(candidate) and not inside_roots(candidate, roots):
                return True
        except (OSError, ValueError):
            continue
    return False
