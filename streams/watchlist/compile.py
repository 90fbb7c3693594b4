"""Compile a loaded watch-list into one Aho-Corasick automaton plus rule tables.

Every term of every entity, concept, exclusion and inline ``term:`` condition becomes one
or two keys of a single ``pyahocorasick`` automaton, built once per watch-list version. Keys
live in the sentinel-wrapped scan view (``text.sentinelize``), so a whole-word key cannot
match inside a word and the scan needs no boundary checks. A key maps to flat entries
(condition, term, entity, NER labels, language/mode filter).

Each rule is indexed under one *anchor* condition (the most specific literal ``all``
condition), so an article evaluates only rules whose anchor was hit: the cost per article
follows the hits, not the number of rules. Regex terms are run per article only for the
rules that became candidates (or always, for a rule made of regex conditions only), on
RE2 (``regex``): linear time whatever the pattern.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import ahocorasick

from schemas.watchlist import (
    DEFAULT_GROUP_BY,
    DEFAULT_STORY_WINDOW_S,
    Rule,
    Watchlist,
    parse_scope,
)
from streams.watchlist._gc import gc_paused
from streams.watchlist._steps import canonical_json
from streams.watchlist.confusables import skeleton
from streams.watchlist.elision import compound_terms
from streams.watchlist.errors import Problem, WatchlistError
from streams.watchlist.langs import ANY, canonical_language
from streams.watchlist.load import LoadedWatchlist
from streams.watchlist.regex import SafeRegex, compile_regex
from streams.watchlist.terms import ALWAYS, SKELETON, TermSpec, parse_term, term_keys
from streams.watchlist.text import SENTINEL, normalize

__all__ = [
    "DEFAULT_STORY_WINDOW_S",
    "CompiledRule",
    "CompiledWatchlist",
    "Pattern",
    "compile_watchlist",
    "watchlist_version",
]


@dataclass(frozen=True, slots=True)
class Pattern:
    """One term of one condition (``cond`` is e.g. ``concept:espionage``)."""

    cond: str
    spec: TermSpec
    entity: str | None = None
    labels: frozenset[str] = frozenset()
    when: int = ALWAYS  # ALWAYS, IN_COMPOUNDING or IN_OTHERS (article language)


def _with_when(pattern: Pattern, when: int) -> Pattern:
    """``dataclasses.replace(pattern, when=when)`` without its per-call introspection (the
    pattern itself when nothing changes: it is immutable)."""
    if pattern.when == when:
        return pattern
    return Pattern(pattern.cond, pattern.spec, pattern.entity, pattern.labels, when)


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to evaluate: canonical condition keys and parsed scope."""

    rule: Rule
    id: str
    title: str
    severity: str
    all: tuple[str, ...]
    any: tuple[str, ...]
    none: tuple[str, ...]
    scope: str  # sentence | paragraph | article | tokens
    tokens: int
    languages: frozenset[str]
    sources: tuple[str, ...]
    channels: tuple[str, ...]
    throttle_window_s: float | None
    #: conditions that can make the rule fire (``all`` then ``any``)
    positive: tuple[str, ...] = ()
    #: story grouping (``url``, ``text``, ``entities``)
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY

    @property
    def window_s(self) -> float:
        """The effective story window: the rule's ``throttle.window``, else 6 hours."""
        return self.throttle_window_s or DEFAULT_STORY_WINDOW_S


def _canonical(condition: str) -> str:
    kind, _, rest = condition.partition(":")
    return f"{kind.strip()}:{rest.strip()}"


def watchlist_version(model: Watchlist) -> str:
    """Content hash of a self-contained watch-list: ``sha256:`` + 16 hex digits."""
    canonical = canonical_json(model)  # item by item: a reload thread leaves the loop the GIL
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


class CompiledWatchlist:
    """A watch-list compiled for matching; immutable, safe to share between tasks."""

    def __init__(self, model: Watchlist, loaded: LoadedWatchlist | None = None) -> None:
        self.model = model
        self.loaded = loaded
        self.version = watchlist_version(model)
        self.patterns: list[Pattern] = []
        self.skeleton_keys = 0  # entity alias keys of the skeleton view (``confusables``)
        self.regexes: dict[str, list[tuple[Pattern, SafeRegex]]] = {}
        self.rules: tuple[CompiledRule, ...] = tuple(
            _compile_rule(r) for r in model.rules if r.enabled
        )
        conds: set[str] = set()
        for rule in self.rules:
            conds.update(rule.all, rule.any, rule.none)
        keys: dict[str, list[int]] = {}
        conds.update([f"!{c}" for c in conds if c.startswith(("entity:", "concept:"))])
        for cond in sorted(conds):
            for pattern in self._patterns_of(cond):
                if pattern.spec.regex is not None:
                    compiled = compile_regex(pattern.spec.regex)
                    self.regexes.setdefault(cond, []).append((pattern, compiled))
                    continue
                for key, when in term_keys(pattern.spec):
                    keys.setdefault(key, []).append(len(self.patterns))
                    self.patterns.append(_with_when(pattern, when))
                if cond.startswith("entity:"):  # homoglyph spellings of names (confusables)
                    for key, _ in term_keys(_skeleton_spec(pattern.spec)):
                        keys.setdefault(key, []).append(len(self.patterns))
                        self.patterns.append(_with_when(pattern, SKELETON))
                        self.skeleton_keys += 1
        self.key_count = len(keys)
        self._index_rules()
        #: full compounds that may occur elided ("Spionage- oder Einmischungsaktivitäten")
        self.compound_terms = compound_terms(
            [(p.cond, p.spec, p.entity) for p in self.patterns if p.cond in self.rules_by_cond]
        )
        # payload per key: (length, entries, widen, anchored rules, conditions). An entry is
        # the flat tuple the matcher needs: (cond, raw term, entity id, NER labels, when,
        # term language or None = any); "anchored" are the rules to evaluate when the key
        # is hit; "conditions" lets the matcher skip keys no candidate rule cares about.
        # equal entries, rule tuples and condition sets are stored once (the keys of one
        # term or one entity repeat them): 10,000 rules hold ~20 MB less
        shared: dict[Any, Any] = {}
        self.automaton: Any = ahocorasick.Automaton()
        for key, ids in keys.items():
            found = [self.patterns[i] for i in ids]
            entries = tuple(
                shared.setdefault(entry, entry)
                for entry in (
                    (
                        p.cond,
                        p.spec.raw,
                        p.entity,
                        p.labels,
                        p.when,
                        None if p.spec.lang == ANY else canonical_language(p.spec.lang),
                    )
                    for p in found
                )
            )
            anchored = tuple(sorted({r for p in found for r in self.rules_by_cond.get(p.cond, ())}))
            whole = key.startswith(SENTINEL) and key.endswith(SENTINEL)
            key_conds = frozenset(p.cond for p in found)
            payload = (
                len(key),
                shared.setdefault(entries, entries),
                not whole,
                shared.setdefault(anchored, anchored),
                shared.setdefault(key_conds, key_conds),
            )
            self.automaton.add_word(key, payload)
        self.automaton.make_automaton()

    def _index_rules(self) -> None:
        """Index each rule under one *anchor*: the most specific literal-only condition of
        ``all`` (entities before concepts, then the one fewest rules share), else under every
        ``any`` condition; a rule made of regex conditions only is evaluated always."""
        usage: dict[str, int] = {}
        for rule in self.rules:
            for cond in rule.positive:
                usage[cond] = usage.get(cond, 0) + 1
        by_cond: dict[str, set[int]] = {}
        always = []
        for index, rule in enumerate(self.rules):
            literal_all = [c for c in rule.all if c not in self.regexes]
            if literal_all:
                anchor = min(literal_all, key=lambda c: (not c.startswith("entity:"), usage[c], c))
                by_cond.setdefault(anchor, set()).add(index)
            elif self._fires_without_literal(rule):
                always.append(index)
            else:
                for cond in rule.any:
                    by_cond.setdefault(cond, set()).add(index)
        self.rules_by_cond: dict[str, tuple[int, ...]] = {
            c: tuple(sorted(v)) for c, v in by_cond.items()
        }
        self.always: tuple[int, ...] = tuple(always)

    def _patterns_of(self, cond: str) -> list[Pattern]:
        kind, _, rest = cond.partition(":")
        if kind == "!entity":
            entity = self.model.entities.get(rest)
            if entity is None:
                return []
            return [Pattern(cond, parse_term(t, ANY, name=True)) for t in entity.exclude]
        if kind == "!concept":
            concept = self.model.concepts.get(rest)
            if concept is None:
                return []
            return [
                Pattern(cond, parse_term(t, lang))
                for lang, terms in concept.exclude.items()
                for t in terms
            ]
        if kind == "entity":
            entity = self.model.entities.get(rest)
            if entity is None:
                return []
            labels = frozenset(entity.labels)
            return [
                Pattern(cond, parse_term(a, ANY, name=True), entity=rest, labels=labels)
                for a in entity.aliases
            ]
        if kind == "concept":
            concept = self.model.concepts.get(rest)
            if concept is None:
                return []
            return [
                Pattern(cond, parse_term(t, lang))
                for lang, terms in concept.terms.items()
                for t in terms
            ]
        if kind == "term":
            return [Pattern(cond, parse_term(rest, ANY))]
        if kind == "regex":
            return [Pattern(cond, parse_term("regex:" + rest, ANY))]
        return []

    def _fires_without_literal(self, rule: CompiledRule) -> bool:
        def has_regex(cond: str) -> bool:
            return cond in self.regexes

        if not all(has_regex(c) for c in rule.all):
            return False
        return not rule.any or any(has_regex(c) for c in rule.any)

    def entity_patterns(self) -> list[dict[str, str]]:
        """spaCy EntityRuler patterns: ``{"label", "pattern", "id"}`` for every literal alias."""
        out = []
        for ident, entity in sorted(self.model.entities.items()):
            label = entity.labels[0] if entity.labels else "WATCHLIST"
            for alias in entity.aliases:
                spec = parse_term(alias, ANY, name=True)
                if spec.regex is not None or spec.left_free or spec.right_free:
                    continue
                text = alias.strip().lstrip("=").strip()
                out.append({"label": label, "pattern": text, "id": ident})
        return out

    @property
    def enabled_rules(self) -> int:
        """How many rules are enabled (0: this watch-list can never alert)."""
        return len(self.rules)

    def rule_windows(self) -> list[dict[str, Any]]:
        """Per rule (enabled or not): id, enabled, story window in seconds, whether default."""
        return [
            {
                "id": r.id,
                "enabled": r.enabled,
                "window_s": r.throttle.window_s if r.throttle else DEFAULT_STORY_WINDOW_S,
                "window_default": r.throttle is None,
            }
            for r in self.model.rules
        ]

    def term_languages(self) -> list[str]:
        """Languages the watch-list has concept terms for (the detector must know them)."""
        return sorted(
            {lang for c in self.model.concepts.values() for lang in (*c.terms, *c.exclude)} - {ANY}
        )

    def summary(self) -> dict[str, Any]:
        """A one-screen description: counts, languages covered, includes."""
        languages: set[str] = set()
        concepts = {}
        for ident, concept in sorted(self.model.concepts.items()):
            langs = sorted(concept.terms)
            concepts[ident] = {
                "languages": langs,
                "terms": sum(len(t) for t in concept.terms.values()),
            }
            languages.update(lang for lang in langs if lang != ANY)
        includes = [str(p) for p in self.loaded.paths()[1:]] if self.loaded else []
        return {
            "path": str(self.loaded.path) if self.loaded else None,
            "version": self.version,
            "rules": len(self.model.rules),
            "rules_enabled": len(self.rules),
            "rule_windows": self.rule_windows(),
            "entities": len(self.model.entities),
            "concepts": concepts,
            "languages": sorted(languages),
            "patterns": len(self.patterns) - self.skeleton_keys,
            "automaton_keys": self.key_count,
            "regexes": sum(len(v) for v in self.regexes.values()),
            "includes": includes,
        }

    def __repr__(self) -> str:
        return f"<CompiledWatchlist {self.version} rules={len(self.rules)} keys={self.key_count}>"


def _skeleton_spec(spec: TermSpec) -> TermSpec:
    """The term with its key taken from the confusables skeleton of its text."""
    text = spec.raw.strip()
    if text.startswith("="):
        text = text[1:]
    return replace(spec, key=normalize(skeleton(text.strip("*"))).strip())


def _compile_rule(rule: Rule) -> CompiledRule:
    scope, n = parse_scope(rule.within)
    all_ = tuple(dict.fromkeys(_canonical(c) for c in rule.all))
    any_ = tuple(dict.fromkeys(_canonical(c) for c in rule.any))
    return CompiledRule(
        rule=rule,
        id=rule.id,
        title=rule.title,
        severity=rule.severity,
        all=all_,
        any=any_,
        positive=all_ + any_,
        none=tuple(dict.fromkeys(_canonical(c) for c in rule.none)),
        scope=scope,
        tokens=n,
        languages=frozenset(canonical_language(lang) for lang in rule.languages),
        sources=tuple(s.lower() for s in rule.sources),
        channels=tuple(rule.channels),
        throttle_window_s=rule.throttle.window_s if rule.throttle else None,
        group_by=tuple(dict.fromkeys(rule.group_by)),
    )


def compile_watchlist(loaded: LoadedWatchlist | Watchlist) -> CompiledWatchlist:
    """Compile a loaded watch-list (or a self-contained model) for matching."""
    with gc_paused():
        return _compile(loaded)


def _compile(loaded: LoadedWatchlist | Watchlist) -> CompiledWatchlist:
    if isinstance(loaded, LoadedWatchlist):
        return CompiledWatchlist(loaded.effective(), loaded)
    try:
        return CompiledWatchlist(loaded)
    except ValueError as exc:  # only for models built in code, not loaded files
        raise WatchlistError([Problem("<watch-list>", 1, 1, str(exc))]) from None
