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

import os
import stat
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.watchlist import ConceptDef, EntityDef, Rule, Watchlist, did_you_mean
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

PACKS_DIR = Path(__file__).resolve().parent / "packs"
MAX_FILE_BYTES = 20_000_000
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


def shipped_packs() -> list[str]:
    """Names of the concept packs shipped with newswatch (``espionage``, …)."""
    return sorted(p.stem for p in PACKS_DIR.glob("*.yaml"))


class _NotReadable(Exception):
    """A file refused before reading (not a regular file, too large)."""


def read_limited(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, checked with ``stat`` first
    (a FIFO, a device or a 3 GB sparse file is refused without reading); ``OSError`` as
    ``open`` raises it, ``_NotReadable`` with the reason otherwise."""
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise _NotReadable("not a regular file")
    if info.st_size > limit:
        raise _NotReadable(f"file larger than {limit} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):  # swapped since the stat
            raise _NotReadable("not a regular file")
        raw = f.read(limit + 1)
    if len(raw) > limit:  # grew since the stat
        raise _NotReadable(f"file larger than {limit} bytes")
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


def load_watchlist(path: Path | str) -> LoadedWatchlist:
    """Load, validate and check a watch-list; ``WatchlistError`` lists every problem."""
    path = Path(path)
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
        self, path: Path, *, stack: tuple[Path, ...], origin: tuple[str, int, int] | None
    ) -> LoadedFile | None:
        shown = str(path)
        where = origin or (shown, 1, 1)
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:
            self.problems.append(Problem(*where, f"cannot resolve '{shown}': {exc}"))
            return None
        if resolved in self.files:
            return self.files[resolved]
        try:
            raw = read_limited(path)
        except FileNotFoundError:
            self.problems.append(Problem(*where, f"file not found: {shown}"))
            return None
        except IsADirectoryError:
            self.problems.append(Problem(*where, f"is a directory, not a file: {shown}"))
            return None
        except OSError as exc:
            self.problems.append(Problem(*where, f"cannot read {shown}: {exc.strerror or exc}"))
            return None
        except _NotReadable as exc:
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
            model = Watchlist.model_validate(data)
        except ValidationError as exc:
            self.problems.extend(_problems_from_validation(exc, shown, positions))
            # go on with the valid parts, so that one run reports every problem
            model = _salvage(data)
        loaded = LoadedFile(path=path, text=text, model=model, positions=positions)
        self.files[resolved] = loaded
        if stack and model.rules:
            self.problems.append(
                Problem(
                    *loaded.where(("rules",), key=True), "an included pack may not define rules"
                )
            )
        for i, entry in enumerate(model.include):
            inc_where = loaded.where(("include", i))
            target = _resolve_include(entry, path.parent, self.roots)
            if isinstance(target, _Outside):
                self.problems.append(
                    Problem(
                        *inc_where,
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
                        *inc_where,
                        f"include '{entry}' not found next to {path.name} or among the shipped "
                        f"packs ({', '.join(names)})" + did_you_mean(stem, names),
                    )
                )
                continue
            if target.resolve() in (*stack, resolved):
                self.problems.append(
                    Problem(*inc_where, f"include cycle: '{entry}' includes itself")
                )
                continue
            if len(stack) >= MAX_INCLUDE_DEPTH:
                self.problems.append(Problem(*inc_where, "includes nested too deeply"))
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


@dataclass(frozen=True)
class _Outside:
    root: Path


def _resolve_include(entry: str, base: Path, roots: tuple[Path, ...]) -> Path | _Outside | None:
    """The file an include names, ``_Outside`` when it names a place outside ``roots``
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
        return _Outside(roots[-1])
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


def _salvage(data: dict[str, Any]) -> Watchlist:
    """The valid parts of a document that failed validation (for further checks only).

    Invalid entities and concepts stay as empty placeholders, so references to them are not
    reported a second time as undefined; an invalid rule keeps its index, id and condition
    strings (so its references are still checked); invalid includes are left out."""

    def valid(model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except (ValidationError, TypeError, ValueError):
            return None

    def section(name: str) -> dict[str, Any]:
        value = data.get(name)
        return value if isinstance(value, dict) else {}

    entities = {
        str(k): valid(EntityDef, v) or EntityDef.model_construct(aliases=[], labels=[], exclude=[])
        for k, v in section("entities").items()
    }
    concepts = {
        str(k): valid(ConceptDef, v) or ConceptDef.model_construct(terms={}, exclude={})
        for k, v in section("concepts").items()
    }
    raw_rules = data.get("rules")
    rules = (
        [valid(Rule, v) or _placeholder_rule(v) for v in raw_rules]
        if isinstance(raw_rules, list)
        else []
    )
    raw_include = data.get("include")
    include = (
        [i for i in raw_include if isinstance(i, str) and i]
        if isinstance(raw_include, list)
        else []
    )
    return Watchlist.model_construct(
        version=1,
        description=None,
        include=include,
        entities=entities,
        concepts=concepts,
        rules=rules,
    )


def _placeholder_rule(value: Any) -> Rule:
    raw = value if isinstance(value, dict) else {}

    def conditions(name: str) -> list[str]:
        items = raw.get(name)
        return [c if isinstance(c, str) else "" for c in items] if isinstance(items, list) else []

    return Rule.model_construct(
        id=str(raw.get("id", "")) or f"<invalid-{id(value)}>",
        title="",
        all=conditions("all"),
        any=conditions("any"),
        none=conditions("none"),
    )


# ----------------------------------------------------------------- pydantic errors -> problems


def _problems_from_validation(exc: ValidationError, file: str, pos: Positions) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc: tuple[str | int, ...] = tuple(err["loc"])
        etype = err["type"]
        if loc and loc[-1] == "[key]":
            path = loc[:-1]
            line, col = pos.key(path)
            where = _dotted(path[:-1])
            message = _message(err, f"key '{path[-1]}'")
        elif etype == "extra_forbidden":
            line, col = pos.key(loc)
            where = _dotted(loc[:-1])
            message = f"unknown key '{loc[-1]}'" + did_you_mean(str(loc[-1]), _fields_at(loc[:-1]))
        elif etype == "missing":
            line, col = pos.value(loc[:-1])
            where = _dotted(loc[:-1])
            message = f"missing key '{loc[-1]}'"
        else:
            line, col = pos.value(loc)
            where = _dotted(loc)
            message = _message(err, None)
        prefix = f"{where}: " if where else ""
        problems.append(Problem(file, line, col, prefix + message))
    return problems


def _message(err: Any, subject: str | None) -> str:
    msg = str(err["msg"])
    if msg.startswith(("Value error, ", "Assertion failed, ")):
        msg = msg.split(", ", 1)[1]
    elif err["type"] == "string_pattern_mismatch":
        value = err.get("input")
        msg = f"invalid id '{value}': use letters, digits, '_', '.', '-' (at most 100)"
    elif err["type"] == "literal_error":
        msg = f"{msg[0].lower()}{msg[1:]}, got {err.get('input')!r}"
    elif err["type"] in ("list_type", "dict_type", "model_type", "string_type"):
        expected = {
            "list_type": "a list",
            "dict_type": "a mapping",
            "model_type": "a mapping",
            "string_type": "a string",
        }[err["type"]]
        msg = f"expected {expected}, got {_kind(err.get('input'))}"
    else:
        msg = msg[0].lower() + msg[1:]
    return f"{subject}: {msg}" if subject else msg


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _dotted(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else args
            if isinstance(tp, list):
                models = [a for a in tp if isinstance(a, type) and issubclass(a, BaseModel)]
                return models[0] if models else None
        else:
            return tp


def _fields_at(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found at ``loc`` (for did-you-mean on unknown keys)."""
    tp: Any = Watchlist
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            f = tp.model_fields.get(str(part))
            if f is None:
                return []
            tp = f.annotation
        else:
            origin, args = typing.get_origin(tp), typing.get_args(tp)
            if origin is list and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []
