"""Fast path of the watch-list YAML parser: libyaml's C parser, ruamel's YAML 1.2 resolution.

ruamel.yaml's round-trip loader (needed for ``FILE:LINE:COL`` problems) composes every node
in pure Python: 18 s for a 10,000-rule list. Here libyaml (PyYAML's C parser) produces the
events and a flat loop builds the plain data; plain scalars are resolved with ruamel's own
YAML 1.2 resolver and values, so the result equals what ``_yaml.parse_yaml`` builds from
the round-trip tree. Whenever the two could differ — a tag, an anchor or alias, a merge
key, a duplicate key, a directive, several documents, a scalar key that is not a string,
number, boolean or null, a syntax error, too many nodes — ``fast_parse`` returns
``UNSURE`` and the caller takes the round-trip path, which decides and reports.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

try:  # PyYAML built with libyaml
    import yaml as _pyyaml

    _CLoader: Any = _pyyaml.CSafeLoader
    _PyYAMLError: Any = _pyyaml.YAMLError
    _ev: Any = _pyyaml.events
except (ImportError, AttributeError):  # pragma: no cover - no libyaml: round-trip path only
    _CLoader = None

from ruamel.yaml import YAML
from ruamel.yaml.resolver import VersionedResolver

__all__ = ["UNSURE", "available", "fast_parse", "resolve_plain"]


class _Unsure:
    """Marker: the fast path cannot vouch for this document."""


UNSURE: Final = _Unsure()
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_KEY_TAGS = frozenset(
    {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool"}
)
_RESOLVER = VersionedResolver()  # YAML 1.2, as the round-trip loader without a directive
#: first character of a plain scalar ('' = empty) -> the implicit resolvers to try, in
#: order: ruamel's own table, read once (its ``resolve`` looks it up again per scalar)
_TABLE: dict[str, tuple[tuple[str, Any], ...]] = {
    first: tuple((str(tag), rx) for tag, rx in resolvers)
    + tuple((str(tag), rx) for tag, rx in _RESOLVER.versioned_resolver.get(None, []))
    for first, resolvers in _RESOLVER.versioned_resolver.items()
    if first is not None
}
_ANY_FIRST = tuple((str(tag), rx) for tag, rx in _RESOLVER.versioned_resolver.get(None, []))
#: first characters of plain scalars that some implicit resolver may claim
_CLAIMED = frozenset(_TABLE) if not _ANY_FIRST else None


def resolve_plain(value: str) -> str:
    """The tag ruamel's YAML 1.2 resolver gives the plain scalar ``value``."""
    for tag, regexp in _TABLE.get(value[:1], _ANY_FIRST):
        if regexp.match(value):
            return tag
    return _STR


def available() -> bool:
    """True when PyYAML's libyaml parser is installed."""
    return _CLoader is not None


@lru_cache(maxsize=4096)
def _typed(value: str) -> tuple[bool, Any]:
    """``(ok, plain value)`` of a plain scalar that resolves to a non-string type, as the
    round-trip loader constructs it (loaded on its own: same resolution, same value)."""
    from streams.watchlist._yaml import plain_scalar

    try:
        loaded = YAML(typ="rt", pure=True).load(value)
    except Exception:
        return False, None
    return plain_scalar(loaded)


def _scalar(event: Any, key: bool) -> Any:
    value: str = event.value
    if not event.implicit[0]:  # quoted or block scalar: always a string
        return value
    if _CLAIMED is not None and value and value[0] not in _CLAIMED:
        return value
    tag = resolve_plain(value)
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    if key and tag not in _KEY_TAGS:  # a date key: the round-trip path keys it by str(date)
        return UNSURE
    ok, plain = _typed(value)
    return plain if ok else UNSURE


def fast_parse(text: str, max_nodes: int) -> Any:
    """The plain data of ``text`` (as ``_yaml.parse_yaml`` would build it), or ``UNSURE``."""
    if _CLoader is None or "%" in text[:1] or "\n%" in text:  # directives: round-trip path
        return UNSURE
    loader = _CLoader(text)
    try:
        return _build(loader, max_nodes)
    except (_PyYAMLError, RecursionError, ValueError, TypeError):
        return UNSURE
    finally:
        loader.dispose()


def _build(loader: Any, max_nodes: int) -> Any:
    root: list[Any] = []
    #: open collections: (container, is_mapping); a mapping's pending key is in ``keys``
    stack: list[tuple[Any, bool]] = [(root, False)]
    keys: list[Any] = []
    expect_key = False
    nodes = 0
    documents = 0
    scalar_ev, map_start, seq_start = _ev.ScalarEvent, _ev.MappingStartEvent, _ev.SequenceStartEvent
    end_evs = (_ev.MappingEndEvent, _ev.SequenceEndEvent)
    while loader.check_event():
        event = loader.get_event()
        kind = type(event)
        if kind is scalar_ev or kind is map_start or kind is seq_start:
            nodes += 1
            if nodes > max_nodes or event.anchor is not None or event.tag is not None:
                return UNSURE
            if kind is scalar_ev:
                container, is_map = stack[-1]
                value = _scalar(event, is_map and expect_key)
                if value is UNSURE:
                    return UNSURE
                if is_map and expect_key:
                    if not (isinstance(value, str | int | float | bool) or value is None):
                        return UNSURE
                    if value in container:
                        return UNSURE  # duplicate key: the round-trip loader reports it
                    keys.append(value)
                    expect_key = False
                    continue
                _attach(container, is_map, keys, value)
                expect_key = is_map
                continue
            if stack[-1][1] and expect_key:
                return UNSURE  # a collection as a mapping key
            new: Any = {} if kind is map_start else []
            _attach(stack[-1][0], stack[-1][1], keys, new)
            stack.append((new, kind is map_start))
            expect_key = kind is map_start
        elif kind in end_evs:
            stack.pop()
            expect_key = stack[-1][1]
        elif kind is _ev.DocumentStartEvent:
            documents += 1
            if documents > 1 or event.version is not None or event.tags:
                return UNSURE
        elif kind is _ev.AliasEvent:
            return UNSURE
    return root[0] if root else None


def _attach(container: Any, is_map: bool, keys: list[Any], value: Any) -> None:
    if is_map:
        container[keys.pop()] = value
    else:
        container.append(value)
