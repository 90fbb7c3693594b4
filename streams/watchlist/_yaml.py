"""Parse YAML safely into plain Python data plus the line/column of every key and value.

ruamel.yaml's round-trip loader builds no Python objects from tags (unknown tags become
tagged scalars, which we reject) and records positions; we copy its tree into plain dicts,
lists and scalars, bounded in size so that alias bombs cannot exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from streams.watchlist.errors import Problem, WatchlistError
from streams.watchlist.limits import MAX_ALIAS_NODES

__all__ = ["MAX_NODES", "Positions", "YamlPath", "parse_yaml"]

#: Upper bound on nodes after alias expansion (a watch-list of 10,000 rules has ~200,000).
MAX_NODES = 2_000_000

YamlPath = tuple[str | int, ...]


@dataclass
class Positions:
    """1-based (line, col) of values and of mapping keys, by path from the document root."""

    values: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)
    keys: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)

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
    """Parse ``text``; raise ``WatchlistError`` with the position of any syntax problem."""
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
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime | date):
        return node.isoformat()
    if isinstance(node, dict | list | tuple | set):  # sets and other plain containers
        return [str(x) for x in node]
    tag = getattr(getattr(node, "tag", None), "value", None) or type(node).__name__
    line, col = pos.value(path)
    problems.append(Problem(file, line, col, f"unsupported YAML tag or value {tag!s}"))
    return None
