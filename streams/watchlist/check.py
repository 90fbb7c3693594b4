"""Whole-document checks of a loaded watch-list (after each file passed its schema).

- every ``entity:`` / ``concept:`` reference is defined (with a did-you-mean);
- rule ids are unique; a condition is not both required and vetoed;
- terms and aliases are not duplicated (after normalization) within one list;
- wildcard terms are long enough to be useful; a term is not empty after normalization;
- ``regex:`` terms run on the linear-time engine (``regex``): no backreference, lookaround….
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial

from schemas.watchlist import Rule, did_you_mean, python_regex
from streams.watchlist.errors import Problem
from streams.watchlist.load import PACKS_DIR, LoadedFile, LoadedWatchlist
from streams.watchlist.regex import RegexError, compile_regex
from streams.watchlist.terms import MIN_WILDCARD_CHARS, parse_term

__all__ = ["check_watchlist"]


def check_watchlist(loaded: LoadedWatchlist) -> list[Problem]:
    """Every problem that needs the whole (merged) watch-list to be seen."""
    problems: list[Problem] = []
    for f in loaded.files:
        problems += _check_terms(f)
    problems += _check_rules(loaded)
    return problems


def _check_terms(f: LoadedFile) -> list[Problem]:
    problems = []
    # (parent path, language key as in the model or None, terms, term language, is a name)
    lists: list[tuple[tuple[str | int, ...], str | None, list[str], str, bool]] = []
    for ident, entity in f.model.entities.items():
        lists.append((("entities", ident, "aliases"), None, entity.aliases, "any", True))
        lists.append((("entities", ident, "exclude"), None, entity.exclude, "any", True))
    for ident, concept in f.model.concepts.items():
        for section in ("terms", "exclude"):
            for lang, terms in getattr(concept, section).items():
                lists.append((("concepts", ident, section), lang, terms, lang, False))
    for parent, lang_key, terms, lang, name in lists:
        # positions are looked up only for a problem (the fast parser computes them lazily)
        at = partial(_term_at, f, parent, lang_key)
        seen: dict[tuple[str, bool, bool, bool, str | None], int] = {}
        for i, raw in enumerate(terms):
            spec = parse_term(raw, lang, name=name)
            if spec.regex is None and not spec.key:
                problems.append(Problem(*at(i), f"term '{raw}' is empty after normalization"))
                continue
            if spec.regex is not None:
                problems += _check_regex(spec.regex, partial(at, i))
            wild = spec.left_free or spec.right_free
            if wild and len(spec.key) < MIN_WILDCARD_CHARS:
                problems.append(
                    Problem(
                        *at(i),
                        f"wildcard term '{raw}' is too short: at least {MIN_WILDCARD_CHARS} "
                        "characters besides '*'",
                    )
                )
            sig = (spec.key, spec.left_free, spec.right_free, spec.whole_word, spec.regex)
            if sig in seen:
                first = at(seen[sig])[1]
                problems.append(
                    Problem(
                        *at(i), f"duplicate term '{raw}' (same as line {first} after normalization)"
                    )
                )
            else:
                seen[sig] = i
    return problems


def _term_at(
    f: LoadedFile, parent: tuple[str | int, ...], lang_key: str | None, index: int
) -> tuple[str, int, int]:
    """``(file, line, col)`` of term ``index`` of a list (a concept's language key as written)."""
    path = parent if lang_key is None else (*parent, _orig_key(f, parent, lang_key))
    return f.where((*path, index))


def _orig_key(f: LoadedFile, parent: tuple[str | int, ...], lang: str) -> str:
    """The key as written in YAML (the model lower-cases language keys)."""
    for written in (lang, lang.upper(), "*" if lang == "any" else lang):
        if (*parent, written) in f.positions.keys:
            return written
    return lang


def _check_rules(loaded: LoadedWatchlist) -> list[Problem]:
    problems = []
    main = loaded.main
    seen: dict[str, int] = {}
    defined = {"entity": sorted(loaded.entities), "concept": sorted(loaded.concepts)}
    known = {kind: frozenset(ids) for kind, ids in defined.items()}
    for i, rule in enumerate(loaded.rules):
        if rule.id in seen:
            first = main.positions.value(("rules", seen[rule.id], "id"))[0]
            problems.append(
                Problem(
                    *main.where(("rules", i, "id")),
                    f"duplicate rule id '{rule.id}' (first on line {first})",
                )
            )
        else:
            seen[rule.id] = i
        problems += _check_conditions(main, i, rule, defined, known)
    return problems


def _check_conditions(
    main: LoadedFile,
    index: int,
    rule: Rule,
    defined: dict[str, list[str]],
    known: dict[str, frozenset[str]],
) -> list[Problem]:
    problems = []
    positive: dict[str, str] = {}
    for group in ("all", "any", "none"):
        conditions: list[str] = getattr(rule, group)
        seen: set[str] = set()
        for j, condition in enumerate(conditions):
            at = partial(main.where, ("rules", index, group, j))
            kind, _, rest = condition.partition(":")
            kind, rest = kind.strip(), rest.strip()
            canonical = f"{kind}:{rest}"
            if kind in known and rest not in known[kind]:
                problems.append(
                    Problem(
                        *at(),
                        f"undefined {kind} '{rest}'" + did_you_mean_ref(kind, rest, defined),
                    )
                )
            if kind == "regex":
                problems += _check_regex(rest, at)
            if canonical in seen:
                problems.append(Problem(*at(), f"duplicate condition '{condition}' in '{group}'"))
            seen.add(canonical)
            if group != "none":
                positive.setdefault(canonical, group)
            elif canonical in positive:
                problems.append(
                    Problem(
                        *at(),
                        f"condition '{condition}' is both in '{positive[canonical]}' and in "
                        "'none': the rule can never fire",
                    )
                )
    return problems


def _check_regex(pattern: str, at: Callable[[], tuple[str, int, int]]) -> list[Problem]:
    """A problem when a (valid Python) pattern cannot run on the linear-time engine."""
    try:
        python_regex(pattern)
    except (re.error, RecursionError, OverflowError):
        return []  # already reported by the schema as an invalid regex
    try:
        compile_regex(pattern)
    except RegexError as exc:
        return [Problem(*at(), f"regex '{pattern}': {exc}")]
    return []


def did_you_mean_ref(kind: str, ident: str, defined: dict[str, list[str]]) -> str:
    """A hint for an undefined reference: a close id, the other kind, or a shipped pack."""
    hint = did_you_mean(ident, defined.get(kind, []))
    if hint:
        return hint
    other = "concept" if kind == "entity" else "entity"
    if ident in defined.get(other, []):
        return f" (did you mean '{other}:{ident}'?)"
    if kind == "concept":
        pack = _shipped_concepts().get(ident)
        if pack:
            return f" (it is in the shipped pack '{pack}': add 'include: [{pack}]')"
    return ""


def _shipped_concepts() -> dict[str, str]:
    """concept id -> shipped pack name (read lazily, only to explain an undefined reference)."""
    from ruamel.yaml import YAML

    found: dict[str, str] = {}
    for pack in sorted(PACKS_DIR.glob("*.yaml")):
        try:
            data = YAML(typ="safe", pure=True).load(pack.read_text(encoding="utf-8"))
        except Exception:  # a broken shipped pack must not hide the user's problem
            continue
        if isinstance(data, dict) and isinstance(data.get("concepts"), dict):
            for ident in data["concepts"]:
                found.setdefault(str(ident), pack.stem)
    return found
