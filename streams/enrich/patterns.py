"""EntityRuler patterns from the watch-list (``CompiledWatchlist.entity_patterns()``): validation.

A pattern is ``{"label": str, "pattern": str | list[dict], "id": str}`` (spaCy's
EntityRuler format). ``id`` identifies the watch-list entity; when missing it defaults to
the casefolded pattern text. Every ruler entity therefore has a non-empty ``ent_id_``, which
is how ``Entity.origin`` tells ruler entities (``"ruler"``) from model ones (``"model"``).
Phrase patterns are NFKC-normalised like the clean text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from streams.enrich.errors import PatternError

__all__ = ["normalize_patterns"]


def normalize_patterns(patterns: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate and normalise patterns; ``PatternError`` names the first bad one."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for index, pat in enumerate(patterns):
        if not isinstance(pat, Mapping):
            raise PatternError(f"expected a mapping, got {type(pat).__name__}", index=index)
        label = pat.get("label")
        if not isinstance(label, str) or not label.strip():
            raise PatternError("'label' must be a non-empty string", index=index)
        body = pat.get("pattern")
        if isinstance(body, str):
            body = " ".join(unicodedata.normalize("NFKC", body).split())
            if not body:
                raise PatternError("'pattern' is empty", index=index)
            default_id = body.casefold()
        elif isinstance(body, list) and body and all(isinstance(t, Mapping) for t in body):
            body = [dict(t) for t in body]
            default_id = label.strip()
        else:
            raise PatternError(
                "'pattern' must be a non-empty string or a list of token dicts", index=index
            )
        ident = pat.get("id")
        if ident is not None and not isinstance(ident, str):
            raise PatternError("'id' must be a string", index=index)
        ident = (ident or "").strip() or default_id
        key = (label.strip(), repr(body), ident)
        if key in seen:
            continue
        seen.add(key)
        out.append({"label": label.strip(), "pattern": body, "id": ident})
    return out
