"""Parse YAML safely into plain Python data plus the line/column of every key and value.

ruamel.yaml's round-trip loader builds no Python objects from tags (unknown tags become
tagged scalars, which we reject) and records positions; we copy its tree into plain dicts,
lists and scalars, bounded in size so that alias bombs cannot exhaust memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from streams.watchlist.errors import Problem, WatchlistError
from streams.watchlist.limits import MAX_ALIAS_NODES

__all__ = ["MAX_NODES", "Positions", "YamlPath", "parse_yaml", "plain_scalar"]

#: Upper bound on nodes after alias expansion (a watch-list of 10,000 rules has ~200,000).
MAX_NODES = 2_000_000

YamlPath = tuple[str | int, ...]


class Positions:
    """1-based (line, col) of values and of mapping keys, by path from the document root.

    Built lazily by ``fill`` when given (the fast parser records no positions: they are
    computed by the round-trip parser the first time a problem needs one)."""

    def __init__(self, fill: Callable[[], Positions] | None = None) -> None:
        self._values: dict[YamlPath, tuple[int, int]] = {}
        self._keys: dict[YamlPath, tuple[int, int]] = {}
        self._fill = fill

    def _filled(self) -> None:
        fill, self._fill = self._fill, None
        if fill is not None:
            other = fill()
            self._values, self._keys = other.values, other.keys

    @property
    def values(self) -> dict[YamlPath, tuple[int, int]]:
        """Positions of values by path."""
        if self._fill is not None:
            self._filled()
        return self._values

    @property
    def keys(self) -> dict[YamlPath, tuple[int, int]]:
        """Positions of mapping keys by path."""
        if self._fill is not None:
            self._filled()
        return self._keys

    def value(self, path: YamlPath) -> tuple[int, int]:
        """Position of the value at ``path``, else of its nearest ancestor, else (1, 1)."""
        for n in range(len(path), -1, -1):
            pos = self.values.get(path[:n])
            if pos is not None:
                return pos
        return (1, 1)

    def key(self, path: YamlPath) -> tuple[int, int]:
        """Position of the key that ends ``path`` (falls back to the value position)."""
        pos = self.keys.get(path)
        return pos if pos is not None else self.value(path)


class _TooLarge(Exception):
    pass


def _loader() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    return yaml


def parse_yaml(text: str, file: str) -> tuple[Any, Positions]:
    """Parse ``text``; raise ``WatchlistError`` with the position of any syntax problem.

    The libyaml fast path (``_fastyaml``) builds the same data when it can vouch for the
    document; positions are then computed on first use by the round-trip parser."""
    from streams.watchlist._fastyaml import UNSURE, fast_parse

    data = fast_parse(text, MAX_NODES)
    if data is not UNSURE:
        return data, Positions(lambda: _positions_of(text, file))
    return parse_round_trip(text, file)


def _positions_of(text: str, file: str) -> Positions:
    try:
        return parse_round_trip(text, file)[1]
    except WatchlistError:  # cannot happen for a document the fast path accepted
        return Positions()


def parse_round_trip(text: str, file: str) -> tuple[Any, Positions]:
    """``parse_yaml`` with ruamel.yaml's round-trip parser only (every position recorded)."""
    try:
        doc = _loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        message = message.replace("\n", " ")
        if "alias" in message:
            message += " (a term starting with '*' must be quoted: \"*spionage\")"
        raise WatchlistError([Problem(file, line, col, f"YAML syntax: {message}")]) from None
    except (YAMLError, ValueError, TypeError, RecursionError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WatchlistError([Problem(file, 1, 1, f"YAML syntax: {message}")]) from None
    positions = Positions()
    problems: list[Problem] = []
    counter = [0]
    reused = [0]
    try:
        # count on the composed graph (aliases share nodes) before anything is expanded
        if _expanded_size(doc, {}, reused) > MAX_NODES:
            raise _TooLarge
        if reused[0] > MAX_ALIAS_NODES.value():
            found = "more" if reused[0] > MAX_NODES else f"{reused[0]:,} nodes"
            raise WatchlistError([Problem(file, 1, 1, MAX_ALIAS_NODES.message(found))])
        data = _plain(doc, (), positions, problems, file, counter)
    except _TooLarge:
        raise WatchlistError(
            [Problem(file, 1, 1, f"document too large (more than {MAX_NODES} nodes after aliases)")]
        ) from None
    except RecursionError:
        raise WatchlistError([Problem(file, 1, 1, "document nested too deeply")]) from None
    if problems:
        raise WatchlistError(problems)
    positions.values.setdefault((), (1, 1))
    return data, positions


def plain_scalar(node: Any) -> tuple[bool, Any]:
    """``(True, plain value)`` for a scalar the loader built (ruamel's int, float and
    string subclasses become the builtin types, dates ISO strings), else ``(False, None)``."""
    if node is None or isinstance(node, bool):
        return True, node
    if isinstance(node, int):
        return True, int(node)
    if isinstance(node, float):
        return True, float(node)
    if isinstance(node, str):
        return True, str(node)
    if isinstance(node, datetime | date):
        return True, node.isoformat()
    return False, None


def _expanded_size(node: Any, memo: dict[int, int], reused: list[int]) -> int:
    """Node count with aliases expanded, computed once per distinct node (alias bombs);
    ``reused[0]`` sums the nodes that aliases add (a node met again counts in full)."""
    if not isinstance(node, dict | list):
        return 1
    known = memo.get(id(node))
    if known is not None:
        reused[0] += known
        return known
    memo[id(node)] = MAX_NODES + 1  # a node that contains itself is too large
    children = node.values() if isinstance(node, dict) else node
    total = 1
    for child in children:
        total += _expanded_size(child, memo, reused)
        if total > MAX_NODES:
            break
    memo[id(node)] = total
    return total


def _plain(
    node: Any,
    path: YamlPath,
    pos: Positions,
    problems: list[Problem],
    file: str,
    counter: list[int],
) -> Any:
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise _TooLarge
    if isinstance(node, CommentedMap):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            plain_key = (
                key if isinstance(key, str | int | float | bool) or key is None else str(key)
            )
            kp = (*path, plain_key if isinstance(plain_key, str | int) else str(plain_key))
            try:
                kl, kc = node.lc.key(key)
                pos.keys[kp] = (kl + 1, kc + 1)
                vl, vc = node.lc.value(key)
                pos.values[kp] = (vl + 1, vc + 1)
            except (KeyError, TypeError, AttributeError):
                pass
            out[plain_key] = _plain(value, kp, pos, problems, file, counter)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, value in enumerate(node):
            try:
                il, ic = node.lc.item(i)
                pos.values[(*path, i)] = (il + 1, ic + 1)
            except (KeyError, TypeError, AttributeError, IndexError):
                pass
            items.append(_plain(value, (*path, i), pos, problems, file, counter))
        return items
    ok, plain = plain_scalar(node)
    if ok:
        return plain
    if isinstance(node, dict | list | tuple | set):  # sets and other plain containers
        return [str(x) for x in node]
    tag = getattr(getattr(node, "tag", None), "value", None) or type(node).__name__
    line, col = pos.value(path)
    problems.append(Problem(file, line, col, f"unsupported YAML tag or value {tag!s}"))
    return None
