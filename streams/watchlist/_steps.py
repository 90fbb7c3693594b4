"""Validate and hash a large watch-list in many small steps instead of one long C call.

pydantic validates (and serialises) a whole document in one call that holds the GIL: for
a 10,000-rule list, a reload thread would stall the worker's event loop for 0.3-1 s. Here
each entity, concept and rule is validated (and dumped) on its own; the interpreter may
switch threads between two of them. The results are the same objects and the same text:

- ``validate_watchlist(data)``: items that validate on their own are handed to
  ``Watchlist.model_validate`` as model instances (kept as they are, not re-validated);
  if any item fails, the whole document is validated in one call as before, so that
  every error is reported with its full location;
- ``canonical_json(model)``: ``json.dumps(model.model_dump(mode="json"), sort_keys=True,
  ensure_ascii=False, separators=(",", ":"))``, assembled item by item.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.watchlist import ConceptDef, EntityDef, Rule, Watchlist

__all__ = ["canonical_json", "validate_watchlist"]

#: Below this many items a section is validated in one call (no GIL stall worth avoiding).
STEP_FROM = 200
_ITEM_MODELS: dict[str, type[BaseModel]] = {
    "entities": EntityDef,
    "concepts": ConceptDef,
    "rules": Rule,
}


def validate_watchlist(data: dict[str, Any]) -> Watchlist:
    """``Watchlist.model_validate(data)``, large sections item by item (same result)."""
    staged = dict(data)
    try:
        for section, model in _ITEM_MODELS.items():
            items = data.get(section)
            if isinstance(items, dict) and len(items) >= STEP_FROM:
                staged[section] = {
                    k: model.model_validate(v) if isinstance(v, dict) else v
                    for k, v in items.items()
                }
            elif isinstance(items, list) and len(items) >= STEP_FROM:
                staged[section] = [
                    model.model_validate(v) if isinstance(v, dict) else v for v in items
                ]
    except ValidationError:
        return Watchlist.model_validate(data)  # located errors, as a whole-document call
    return Watchlist.model_validate(staged)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _models(value: Any) -> bool:
    """A non-empty list, or str-keyed dict, of pydantic models (dumped item by item)."""
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, BaseModel) for v in value)
    if isinstance(value, dict):
        return (
            bool(value)
            and all(isinstance(k, str) for k in value)
            and all(isinstance(v, BaseModel) for v in value.values())
        )
    return False


def _json_of(value: list[BaseModel] | dict[str, BaseModel]) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v.model_dump(mode="json")) for v in value) + "]"
    return (
        "{"
        + ",".join(f"{_dumps(k)}:{_dumps(value[k].model_dump(mode='json'))}" for k in sorted(value))
        + "}"
    )


def canonical_json(model: Watchlist) -> str:
    """The sorted-keys compact JSON of ``model.model_dump(mode="json")``, item by item."""
    names = sorted(type(model).model_fields)
    pieces = {n: getattr(model, n) for n in names if _models(getattr(model, n))}
    rest = model.model_dump(mode="json", include={n for n in names if n not in pieces})
    parts = [
        f"{_dumps(n)}:{_json_of(pieces[n]) if n in pieces else _dumps(rest[n])}" for n in names
    ]
    return "{" + ",".join(parts) + "}"
