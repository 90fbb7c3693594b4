"""Load a watch-list file and its includes into validated models, with precise problems.

``load_watchlist(path)`` reads the file, parses it (``_yaml``), validates it against
``schemas.watchlist.Watchlist``, resolves ``include`` entries (relative to the including
file, then the shipped ``packs/`` folder; ``espionage`` is short for ``packs/espionage.yaml``),
merges entities and concepts, and runs the whole-document checks (``check``). Every problem
found on the way is collected; if there is any, one ``WatchlistError`` carries them all.

Includes are confined (issue 13.3): an include must resolve — symlinks followed — to a file
inside the main watch-list's folder tree or the shipped packs; anything else (an absolute
path elsewhere, ``../`` out of the tree, a symlink pointing out) is refused before it is
opened, so no other file's content can show up in a message. Every file is ``stat``-ed
before it is read: only regular files of at most ``MAX_FILE_BYTES`` are read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from schemas.watchlist import ConceptDef, EntityDef, Rule, Watchlist, did_you_mean
from streams.watchlist._gc import gc_paused
from streams.watchlist._includes import (
    MAX_FILE_BYTES,
    PACKS_DIR,
    NotReadable,
    Outside,
    allowed_roots,
    inside_roots,
    read_limited,
    resolve_include,
    shipped_packs,
)
from streams.watchlist._steps import validate_watchlist
from streams.watchlist._validation import problems_from_validation, salvage
from streams.watchlist._yaml import Positions, YamlPath, parse_yaml
from streams.watchlist.errors import Problem, WatchlistError
from streams.watchlist.limits import MAX_PATTERNS

__all__ = [
    "MAX_FILE_BYTES",
    "PACKS_DIR",
    "LoadedFile",
    "LoadedWatchlist",
    "allowed_roots",
    "inside_roots",
    "load_watchlist",
    "read_limited",
    "shipped_packs",
]

MAX_INCLUDE_DEPTH = 16


@dataclass(frozen=True)
class LoadedFile:
    """One parsed and validated file: its path, text, model and key/value positions."""

    path: Path
    text: str
    model: Watchlist
    positions: Positions

    def where(self, path: YamlPath, *, key: bool = False) -> tuple[str, int, int]:
        """``(file, line, col)`` of a value (or of its key) in this file."""
        line, col = self.positions.key(path) if key else self.positions.value(path)
        return str(self.path), line, col


@dataclass(frozen=True)
class LoadedWatchlist:
    """A loaded watch-list: the main file, its includes, and the merged definitions."""

    path: Path
    text: str
    model: Watchlist
    files: tuple[LoadedFile, ...]
    entities: dict[str, EntityDef] = field(default_factory=dict)
    concepts: dict[str, ConceptDef] = field(default_factory=dict)
    #: "entity:ID" / "concept:ID" -> the file that defines it
    defined_in: dict[str, LoadedFile] = field(default_factory=dict)

    @property
    def rules(self) -> list[Rule]:
        """The rules of the main file (includes define no rules)."""
        return list(self.model.rules)

    @property
    def main(self) -> LoadedFile:
        """The main file."""
        return self.files[0]

    def paths(self) -> list[Path]:
        """Every file that makes up this watch-list (main first), for change detection."""
        return [f.path for f in self.files]

    def effective(self) -> Watchlist:
        """One self-contained model: merged entities and concepts, the rules, no includes."""
        return Watchlist(
            version=1,
            description=self.model.description,
            include=[],
            entities=dict(sorted(self.entities.items())),
            concepts=dict(sorted(self.concepts.items())),
            rules=self.model.rules,
            ops_channels=self.model.ops_channels,
        )


def load_watchlist(path: Path | str) -> LoadedWatchlist:
    """Load, validate and check a watch-list; ``WatchlistError`` lists every problem."""
    with gc_paused():
        return _load(Path(path))


def _load(path: Path) -> LoadedWatchlist:
    loader = _Loader(allowed_roots(path))
    main = loader.load_file(path, stack=(), origin=None)
    if main is None or loader.over_limit:
        raise WatchlistError(loader.problems)
    loaded = loader.merge(main)
    from streams.watchlist.check import check_watchlist

    problems = loader.problems + check_watchlist(loaded)
    if problems:
        raise WatchlistError(problems)
    return loaded


class _Loader:
    def __init__(self, roots: tuple[Path, ...]) -> None:
        self.roots = roots
        self.problems: list[Problem] = []
        self.files: dict[Path, LoadedFile] = {}
        self.order: list[LoadedFile] = []
        self.terms = 0  # terms over all files so far (MAX_PATTERNS)
        self.over_limit = False  # then the whole-document checks would only add noise

    def load_file(
        self,
        path: Path,
        *,
        stack: tuple[Path, ...],
        origin: Callable[[], tuple[str, int, int]] | None,
    ) -> LoadedFile | None:
        shown = str(path)

        def where() -> tuple[str, int, int]:  # looked up only for a problem (lazy positions)
            return origin() if origin is not None else (shown, 1, 1)

        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:
            self.problems.append(Problem(*where(), f"cannot resolve '{shown}': {exc}"))
            return None
        if resolved in self.files:
            return self.files[resolved]
        try:
            raw = read_limited(path)
        except FileNotFoundError:
            self.problems.append(Problem(*where(), f"file not found: {shown}"))
            return None
        except IsADirectoryError:
            self.problems.append(Problem(*where(), f"is a directory, not a file: {shown}"))
            return None
        except OSError as exc:
            self.problems.append(Problem(*where(), f"cannot read {shown}: {exc.strerror or exc}"))
            return None
        except NotReadable as exc:
            # located in the file itself, so that the reloader watches it for a fix
            self.problems.append(Problem(shown, 1, 1, f"{exc}: {shown}"))
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            before = raw[: exc.start]
            line = before.count(b"\n") + 1
            col = exc.start - (before.rfind(b"\n") + 1) + 1
            self.problems.append(Problem(shown, line, col, "not valid UTF-8"))
            return None
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            self.problems.append(Problem(shown, line, 1, "NUL character in file"))
            return None
        try:
            data, positions = parse_yaml(text, shown)
        except WatchlistError as exc:
            self.problems.extend(exc.problems)
            return None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.problems.append(
                Problem(shown, 1, 1, "the top level must be a mapping (key: value)")
            )
            return None
        self.terms += _count_terms(data)
        if self.terms > MAX_PATTERNS.value():
            found = f"{self.terms:,} up to and including {shown}"
            self.problems.append(Problem(shown, 1, 1, MAX_PATTERNS.message(found)))
            self.over_limit = True
            return None
        try:
            model = validate_watchlist(data)
        except ValidationError as exc:
            self.problems.extend(problems_from_validation(exc, shown, positions))
            # go on with the valid parts, so that one run reports every problem
            model = salvage(data)
        loaded = LoadedFile(path=path, text=text, model=model, positions=positions)
        self.files[resolved] = loaded
        if stack and model.rules:
            self.problems.append(
                Problem(
                    *loaded.where(("rules",), key=True), "an included pack may not define rules"
                )
            )
        for i, entry in enumerate(model.include):
            inc_where = partial(loaded.where, ("include", i))
            target = resolve_include(entry, path.parent, self.roots)
            if isinstance(target, Outside):
                self.problems.append(
                    Problem(
                        *inc_where(),
                        f"include '{entry}' refused: it resolves outside the watch-list's "
                        f"folder ({target.root}) and the shipped packs; includes may only "
                        "name files in that folder tree or shipped packs",
                    )
                )
                continue
            if target is None:
                names = shipped_packs()
                stem = Path(entry).stem
                self.problems.append(
                    Problem(
                        *inc_where(),
                        f"include '{entry}' not found next to {path.name} or among the shipped "
                        f"packs ({', '.join(names)})" + did_you_mean(stem, names),
                    )
                )
                continue
            if target.resolve() in (*stack, resolved):
                self.problems.append(
                    Problem(*inc_where(), f"include cycle: '{entry}' includes itself")
                )
                continue
            if len(stack) >= MAX_INCLUDE_DEPTH:
                self.problems.append(Problem(*inc_where(), "includes nested too deeply"))
                continue
            self.load_file(target, stack=(*stack, resolved), origin=inc_where)
        self.order.append(loaded)  # includes first (post-order), the main file last
        return loaded

    def merge(self, main: LoadedFile) -> LoadedWatchlist:
        entities: dict[str, EntityDef] = {}
        concepts: dict[str, ConceptDef] = {}
        defined_in: dict[str, LoadedFile] = {}
        for f in self.order:
            for section, target in (("entities", entities), ("concepts", concepts)):
                kind = "entity" if section == "entities" else "concept"
                items: dict[str, Any] = getattr(f.model, section)
                for ident, definition in items.items():
                    ref = f"{kind}:{ident}"
                    if ref in defined_in:
                        first = defined_in[ref]
                        line, _ = first.positions.key((section, ident))
                        self.problems.append(
                            Problem(
                                *f.where((section, ident), key=True),
                                f"{kind} '{ident}' is already defined in {first.path}:{line}",
                            )
                        )
                        continue
                    target[ident] = definition
                    defined_in[ref] = f
        files = (main, *(f for f in self.order if f is not main))
        return LoadedWatchlist(
            path=main.path,
            text=main.text,
            model=main.model,
            files=files,
            entities=entities,
            concepts=concepts,
            defined_in=defined_in,
        )


def _count_terms(data: dict[str, Any]) -> int:
    """Terms of a parsed (not yet validated) file: aliases, terms, excludes, inline terms."""

    def lists(value: Any) -> int:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict):
            return sum(len(v) for v in value.values() if isinstance(v, list))
        return 0

    total = 0
    for section, keys in (("entities", ("aliases", "exclude")), ("concepts", ("terms", "exclude"))):
        items = data.get(section)
        if isinstance(items, dict):
            for item in items.values():
                if isinstance(item, dict):
                    total += sum(lists(item.get(k)) for k in keys)
    rules = data.get("rules")
    if isinstance(rules, list):
        for rule in rules:
            if isinstance(rule, dict):
                total += sum(lists(rule.get(k)) for k in ("all", "any", "none"))
    return total
