"""Pydantic validation errors as located problems, and the salvage of an invalid document."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.watchlist import ConceptDef, EntityDef, Rule, Watchlist, did_you_mean
from streams.watchlist._yaml import Positions
from streams.watchlist.errors import Problem

__all__ = ["problems_from_validation", "salvage"]


def salvage(data: dict[str, Any]) -> Watchlist:
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


def problems_from_validation(exc: ValidationError, file: str, pos: Positions) -> list[Problem]:
    """One ``Problem`` per pydantic error, at the key or value it concerns, in plain words."""
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
