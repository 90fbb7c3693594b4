"""Match an enriched article against a compiled watch-list: pure, no Kafka.

Offsets: the matcher scans ``clean_text``. By the enrichment contract the clean title is
paragraph 0 of ``clean_text``, so every evidence offset indexes ``clean_text`` and a hit in
the title has ``paragraph == 0``. (A record whose ``clean_text`` does not start with its title
gets the title prepended as a virtual paragraph: such hits have ``paragraph == sentence ==
-1`` and offsets into ``article.title``.) ``surface`` is ``source[start:end]`` (the whole word
for a hit inside a compound) and ``snippet`` the sentence that holds it.

Steps per article: normalize (``text``), one automaton scan over the surface view and one
over the lemma view (when enrichment supplied lemmas), keep hits that pass their term mode
and language, then evaluate only the rules whose conditions were hit (plus rules made of
regex terms only), per scope unit, with ``none`` vetoing within the unit.
"""

from __future__ import annotations

import fnmatch
import re
from bisect import bisect_right
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from schemas.records import ArticleRef, EnrichedArticle, Evidence, Match, Sentence, Span
from streams.watchlist.compile import CompiledRule, CompiledWatchlist
from streams.watchlist.confusables import (
    is_spoof,
    native_scripts,
    needs_skeleton,
    skeleton,
    skeleton_chars,
)
from streams.watchlist.elision import elided_hits
from streams.watchlist.langs import ANY, COMPOUND_LANGUAGES, article_language
from streams.watchlist.regex import ByteMap
from streams.watchlist.scripts import (
    MIN_VERBATIM_CHARS,
    NO_SPACE_SCRIPTS,
    UNCERTAIN_BELOW,
    script_of,
    text_scripts,
)
from streams.watchlist.segment import split_paragraphs, split_sentences, tokens
from streams.watchlist.terms import (
    IN_COMPOUNDING,
    IN_INFLECTING,
    IN_OTHERS,
    INFLECTING_LANGUAGES,
    MAX_NAME_ENDING,
    SKELETON,
)
from streams.watchlist.text import (
    SENTINEL,
    NormText,
    is_word_char,
    normalize,
    normalize_text,
    sentinelize,
)

__all__ = ["MAX_EVIDENCE", "build_enriched", "match_article", "match_text"]

#: Evidence kept per match (the first satisfying scope units, one hit per condition each).
MAX_EVIDENCE = 24
MAX_UNITS = 6
SNIPPET_CHARS = 400
_SEP = "\n\n"


class _Hit:
    __slots__ = ("cond", "end", "entity", "para", "sent", "start", "term", "tok")

    def __init__(self, cond: str, term: str, start: int, end: int, entity: str | None) -> None:
        self.cond = cond
        self.term = term
        self.start = start
        self.end = end
        self.entity = entity
        self.para = -1
        self.sent = -1
        self.tok = -1


class _Doc:
    """Title + clean text as one document, with scope units in document offsets."""

    def __init__(self, enriched: EnrichedArticle, *, skeleton_view: bool = False) -> None:
        title = enriched.article.title or ""
        body = enriched.clean_text or ""
        paragraphs = enriched.paragraphs or split_paragraphs(body)
        sentences = enriched.sentences or split_sentences(body, paragraphs)
        if title.strip() and not _title_is_first_paragraph(title, body, paragraphs):
            self.title = title  # not part of clean_text: prepend it as a virtual paragraph
        else:
            self.title = title = ""
        self.body = body
        self.offset = len(title) + len(_SEP) if title else 0
        self.text = (title + _SEP + body) if title else body
        off = self.offset
        # unit lists: (doc start, doc end, record index); the title is unit 0 with index -1
        self.paras: list[tuple[int, int, int]] = [(0, len(title), -1)] if title else []
        # sorted by start, so that bisect works even on a hand-made record
        self.paras += sorted((p.start + off, p.end + off, i) for i, p in enumerate(paragraphs))
        self.sents: list[tuple[int, int, int]] = [(0, len(title), -1)] if title else []
        self.sents += sorted((s.start + off, s.end + off, i) for i, s in enumerate(sentences))
        self.sent_para = [sentences[i].paragraph if i >= 0 else -1 for _, _, i in self.sents]
        self.para_starts = [u[0] for u in self.paras]
        self.sent_starts = [u[0] for u in self.sents]
        self.lang = article_language(enriched.language)
        #: language gating (see ``scripts``): other languages' terms need a script of the
        #: article; verbatim only when the detection is confident
        self.confident = enriched.language_confidence >= UNCERTAIN_BELOW
        self.scripts: frozenset[str] | None = None
        self.source = (enriched.article.source or "").lower()
        host = ""
        if enriched.article.url:
            try:
                host = (urlsplit(enriched.article.url).hostname or "").lower()
            except ValueError:
                host = ""
        self.host = host
        self._token_starts: list[int] | None = None
        lemmas = sorted(
            (lm.start + off, lm.end + off, lm.lemma)
            for lm in enriched.lemmas
            if 0 <= lm.start < lm.end <= len(body)
        )
        self.views: list[NormText] = [normalize_text(self.text)]
        if lemmas:
            self.views.append(normalize_text(self.text, lemmas))
        # entity aliases also match on the confusables skeleton (same length: same offsets)
        self.skeleton = -1
        if skeleton_view and _CONFUSABLE.search(self.text):
            self.native = native_scripts(self.text, self.lang)
            if needs_skeleton(self.text, self.native):
                self.skeleton = len(self.views)
                self.views.append(normalize_text(skeleton(self.text)))
        self.scans = [sentinelize(v.text) for v in self.views]
        self.bytemap: ByteMap | None = None
        self.model_entities = [
            (e.start + off, e.end + off, e.label) for e in enriched.entities if e.origin == "model"
        ]

    def token_index(self, offset: int) -> int:
        if self._token_starts is None:
            self._token_starts = tokens(self.text)
        return max(0, bisect_right(self._token_starts, offset) - 1)

    def unit_of(self, offset: int, starts: list[int]) -> int:
        return max(0, bisect_right(starts, offset) - 1)


def _title_is_first_paragraph(title: str, body: str, paragraphs: list[Span]) -> bool:
    """The enrichment contract: the clean title is paragraph 0 of ``clean_text``."""
    if not paragraphs:
        return False
    first = body[paragraphs[0].start : paragraphs[0].end]
    if first == title or " ".join(first.split()) == " ".join(title.split()):
        return True
    if len(first) > 2 * len(title) + 16:
        return False
    return normalize(first).strip() == normalize(title).strip()


_Raw = tuple[int, int, int, bool, tuple[Any, ...], frozenset[str]]
_CONFUSABLE = re.compile("[" + re.escape("".join(sorted(skeleton_chars()))) + "]")


def _collect(compiled: CompiledWatchlist, doc: _Doc) -> tuple[list[_Raw], set[int]]:
    """The hot loop: one automaton pass per view. Returns the raw results
    ``(view, end_index, length, widen, entries, conditions)`` and the rules anchored at the
    keys hit;
    nothing is filtered or mapped to the original text yet (most hits concern no
    candidate rule)."""
    rows: list[_Raw] = []
    candidates: set[int] = set(compiled.always)
    if compiled.key_count == 0:
        return rows, candidates
    append = rows.append
    update = candidates.update
    for vi, scan in enumerate(doc.scans):
        for end_index, (length, entries, widen, anchored, conds) in compiled.automaton.iter(scan):
            append((vi, end_index, length, widen, entries, conds))
            if anchored:
                update(anchored)
    return rows, candidates


def _materialize(doc: _Doc, rows: list[_Raw], relevant: set[str]) -> dict[str, list[_Hit]]:
    """Hits of the ``relevant`` conditions whose language and mode apply, in original
    offsets, de-duplicated: the longest term names a span; a hit inside a longer hit of the
    same condition or inside an excluded false friend is dropped."""
    text = doc.text
    lang = doc.lang
    mode = IN_COMPOUNDING if lang in COMPOUND_LANGUAGES else IN_OTHERS
    inflecting = lang is None or lang in INFLECTING_LANGUAGES or not doc.confident
    out: list[tuple[str, int, int, int, str, str | None]] = []
    for vi, end_index, length, widen, entries, conds in rows:
        if relevant.isdisjoint(conds):
            continue
        span: tuple[int, int] | None = None
        exact: tuple[int, int] | None = None
        in_skeleton = vi == doc.skeleton
        for cond, raw, entity, labels, when, term_lang in entries:
            if (when == SKELETON) != in_skeleton:
                continue  # skeleton keys apply only to the skeleton view, and only they do
            if cond not in relevant or (when and when not in (SKELETON, IN_INFLECTING, mode)):
                continue
            if when == IN_INFLECTING and not inflecting:
                continue
            verbatim = False
            if lang is not None and term_lang is not None and term_lang != lang:
                gate = _gate(doc, raw, cond)
                if gate is None:
                    continue
                verbatim = gate
                if verbatim and vi > 0:
                    continue  # the lemma view holds lemmas of the detected language only
            if span is None:
                scan = doc.scans[vi]
                s = end_index - length + 1
                ns = s - scan.count(SENTINEL, 0, s)
                ne = ns + length - scan.count(SENTINEL, s, end_index + 1)
                if ne <= ns:
                    break
                exact = span = doc.views[vi].span(ns, ne)
                if widen:
                    span = _whole_word(text, *span)
            if verbatim and (exact is None or not _is_verbatim(raw, exact, span)):
                continue
            if when == IN_INFLECTING and not _is_name_ending(text, exact, span):
                continue
            if labels and doc.model_entities and not _has_label(doc, *span, labels):
                continue
            if in_skeleton and not is_spoof(text[span[0] : span[1]], raw, doc.native):
                continue  # a genuine word of another script, not a homoglyph spelling
            out.append((cond, span[0], -span[1], -length, raw, entity))
    out.sort()
    excluded: dict[str, list[tuple[int, int]]] = {}
    for cond, start, neg_end, _, _, _ in out:
        if cond[0] == "!":
            excluded.setdefault(cond[1:], []).append((start, -neg_end))
    hits: dict[str, list[_Hit]] = {}
    last_cond, reach = "", -1
    for cond, start, neg_end, _, raw, entity in out:
        end = -neg_end
        if cond != last_cond:
            last_cond, reach = cond, -1
        if end <= reach or cond[0] == "!":
            continue  # same span (shorter term) or inside a longer hit ("Alibaba Group")
        ex = excluded.get(cond)
        if ex and any(s <= start and end <= e for s, e in ex):
            continue  # inside a false friend ("Protestanten" for protest)
        reach = end
        hits.setdefault(cond, []).append(_Hit(cond, raw, start, end, entity))
    return hits


def _gate(doc: _Doc, raw: str, cond: str) -> bool | None:
    """A term of another language than the article's: ``None`` = does not apply (its script
    does not occur in the article), ``False`` = applies in full (uncertain detection, or an
    exclusion), ``True`` = applies verbatim only."""
    script = script_of(raw.lstrip("=*"))
    if script is None:
        return False
    if doc.scripts is None:
        doc.scripts = text_scripts(doc.text)
    if script not in doc.scripts:
        return None
    if not doc.confident or cond[0] == "!" or script in NO_SPACE_SCRIPTS:
        return False
    return None if len(raw.strip("=* ")) < MIN_VERBATIM_CHARS else True


def _is_verbatim(raw: str, exact: tuple[int, int], word: tuple[int, int]) -> bool:
    """The hit is the whole word, or the declared prefix (``pre*``) of a word."""
    if exact == word:
        return True
    term = raw.strip()
    return term.endswith("*") and not term.lstrip("=").startswith("*") and exact[0] == word[0]


def _elided(compiled: CompiledWatchlist, doc: _Doc) -> dict[str, list[_Hit]]:
    """Hits of full-compound terms written elided (see ``elision``), per condition."""
    langs = frozenset({doc.lang}) if doc.lang is not None and doc.confident else None
    out: dict[str, list[_Hit]] = {}
    for cond, raw, start, end, entity in elided_hits(compiled.compound_terms, doc.views[0], langs):
        out.setdefault(cond, []).append(_Hit(cond, raw, start, end, entity))
    return out


def _is_name_ending(text: str, exact: tuple[int, int] | None, word: tuple[int, int]) -> bool:
    """The word is the name plus a short lower-case case ending (``Huawei|hin``)."""
    if exact is None or exact[0] != word[0]:
        return False
    ending = text[exact[1] : word[1]]
    return 0 < len(ending) <= MAX_NAME_ENDING and ending.islower()


def _regex_hits(compiled: CompiledWatchlist, doc: _Doc, cond: str) -> list[_Hit]:
    out = []
    view = doc.views[0]
    for pattern, rx in compiled.regexes.get(cond, ()):
        spec = pattern.spec
        if doc.lang is not None and spec.lang not in (ANY, doc.lang):
            continue
        if doc.bytemap is None:  # UTF-8 view for RE2, built once per article
            doc.bytemap = ByteMap(view.text)
        for start, end in rx.spans(view.text, doc.bytemap):
            s, e = view.span(start, end)
            out.append(_Hit(cond, spec.raw, s, e, pattern.entity))
    return out


def _has_label(doc: _Doc, start: int, end: int, labels: frozenset[str]) -> bool:
    return any(s < end and start < e and label in labels for s, e, label in doc.model_entities)


def _whole_word(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a hit inside a word (compound, wildcard) to the whole word, at most 40 chars."""
    s, e = start, end
    limit = max(0, start - 40)
    while s > limit and is_word_char(text[s - 1]):
        s -= 1
    limit = min(len(text), end + 40)
    while e < limit and is_word_char(text[e]):
        e += 1
    return s, e


def _rule_applies(rule: CompiledRule, doc: _Doc) -> bool:
    if rule.languages and doc.lang not in rule.languages:
        return False
    if rule.sources:
        names = [n for n in (doc.source, doc.host) if n]
        if not any(fnmatch.fnmatchcase(n, pat) for n in names for pat in rule.sources):
            return False
    return True


def _evaluate(
    rule: CompiledRule, doc: _Doc, hits: dict[str, list[_Hit]]
) -> list[list[_Hit]] | None:
    """Groups of hits (one group per satisfying scope unit), or None when the rule fails."""
    if any(not hits.get(c) for c in rule.all):
        return None
    if rule.any and not any(hits.get(c) for c in rule.any):
        return None
    if rule.scope == "article":
        if any(hits.get(c) for c in rule.none):
            return None
        group = [h for c in rule.all for h in hits[c][:3]]
        group += [h for c in rule.any for h in hits.get(c, [])[:3]]
        return [group]
    if rule.scope == "tokens":
        return _evaluate_tokens(rule, doc, hits)
    attr, starts = (
        ("sent", doc.sent_starts) if rule.scope == "sentence" else ("para", doc.para_starts)
    )
    units: dict[int, dict[str, _Hit]] = {}
    for cond in rule.positive:
        for h in hits.get(cond, ()):
            u = getattr(h, attr)
            if u < 0:
                u = doc.unit_of(h.start, starts)
                setattr(h, attr, u)
            units.setdefault(u, {}).setdefault(cond, h)
    vetoed: set[int] = set()
    for cond in rule.none:
        for h in hits.get(cond, ()):
            vetoed.add(doc.unit_of(h.start, starts))
    groups = []
    for u in sorted(units):
        found = units[u]
        if u in vetoed or any(c not in found for c in rule.all):
            continue
        if rule.any and not any(c in found for c in rule.any):
            continue
        groups.append([found[c] for c in rule.positive if c in found])
        if len(groups) >= MAX_UNITS:
            break
    return groups or None


def _evaluate_tokens(
    rule: CompiledRule, doc: _Doc, hits: dict[str, list[_Hit]]
) -> list[list[_Hit]] | None:
    n = rule.tokens
    positive = sorted(
        (h for c in rule.positive for h in hits.get(c, ())), key=lambda h: (h.start, h.cond)
    )
    for h in positive:
        h.tok = doc.token_index(h.start)
    vetoes = sorted(doc.token_index(h.start) for c in rule.none for h in hits.get(c, ()))
    groups: list[list[_Hit]] = []
    i = 0
    while i < len(positive) and len(groups) < MAX_UNITS:
        t0 = positive[i].tok
        found: dict[str, _Hit] = {}
        j = i
        while j < len(positive) and positive[j].tok < t0 + n:
            found.setdefault(positive[j].cond, positive[j])
            j += 1
        k = bisect_right(vetoes, t0 - 1)
        vetoed = k < len(vetoes) and vetoes[k] < t0 + n
        ok = all(c in found for c in rule.all) and (
            not rule.any or any(c in found for c in rule.any)
        )
        if ok and not vetoed:
            groups.append([found[c] for c in rule.positive if c in found])
            i = j
        else:
            i += 1
    return groups or None


def _evidence(doc: _Doc, hit: _Hit) -> Evidence:
    if hit.start < doc.offset:  # in the title
        source, start, end = doc.title, hit.start, min(hit.end, len(doc.title))
        sentence = paragraph = -1
        snippet_span = (0, len(doc.title))
    else:
        source, start, end = doc.body, hit.start - doc.offset, hit.end - doc.offset
        k = doc.unit_of(hit.start, doc.sent_starts)
        s_start, s_end, sentence = doc.sents[k] if doc.sents else (hit.start, hit.end, -1)
        paragraph = doc.sent_para[k] if doc.sents else -1
        if not (s_start <= hit.start < max(s_end, s_start + 1)):
            sentence, s_start, s_end = -1, hit.start, hit.end
            paragraph = doc.paras[doc.unit_of(hit.start, doc.para_starts)][2] if doc.paras else -1
        snippet_span = (s_start - doc.offset, s_end - doc.offset)
    return Evidence(
        condition=hit.cond,
        term=hit.term,
        surface=source[start:end],
        start=start,
        end=end,
        sentence=sentence,
        paragraph=paragraph,
        snippet=_snippet(source, snippet_span, start, end),
    )


def _snippet(source: str, span: tuple[int, int], start: int, end: int) -> str:
    s, e = span
    if e - s > SNIPPET_CHARS:
        half = (SNIPPET_CHARS - (end - start)) // 2
        s = max(s, start - max(half, 0))
        e = min(e, s + SNIPPET_CHARS)
        text = source[s:e]
        text = ("… " if s > span[0] else "") + text + (" …" if e < span[1] else "")
    else:
        text = source[s:e]
    return " ".join(text.split())


def match_article(compiled: CompiledWatchlist, enriched: EnrichedArticle) -> list[Match]:
    """Every rule of ``compiled`` that fires on ``enriched``, with evidence (rule order)."""
    doc = _Doc(enriched, skeleton_view=compiled.skeleton_keys > 0)
    rows, candidates = _collect(compiled, doc)
    elided = _elided(compiled, doc)
    for cond in elided:
        candidates.update(compiled.rules_by_cond.get(cond, ()))
    if not candidates:
        return []
    # conditions with at least one key hit (before language/mode filtering: a superset)
    hit = frozenset().union(*(row[5] for row in rows)).union(compiled.regexes, elided)
    rules = [
        r
        for r in (compiled.rules[i] for i in sorted(candidates))
        if all(c in hit for c in r.all)
        and (not r.any or any(c in hit for c in r.any))
        and _rule_applies(r, doc)
    ]
    if not rules:
        return []
    relevant = {c for r in rules for c in (*r.positive, *r.none)}
    relevant |= {"!" + c for c in relevant}
    hits = _materialize(doc, rows, relevant)
    for cond, found in elided.items():
        if cond in relevant:
            hits[cond] = sorted(hits.get(cond, []) + found, key=lambda h: h.start)
    regex_done: set[str] = set()
    matches = []
    for rule in rules:
        for cond in (*rule.positive, *rule.none):
            if cond in compiled.regexes and cond not in regex_done:
                regex_done.add(cond)
                found = _regex_hits(compiled, doc, cond)
                if found:
                    hits[cond] = sorted(hits.get(cond, []) + found, key=lambda h: h.start)
        groups = _evaluate(rule, doc, hits)
        if groups:
            matches.append(_match(compiled, rule, doc, enriched.article.id, groups))
    return matches


def _match(
    compiled: CompiledWatchlist,
    rule: CompiledRule,
    doc: _Doc,
    article_id: str,
    groups: Iterable[list[_Hit]],
) -> Match:
    evidence: list[Evidence] = []
    seen: set[tuple[str, int, int]] = set()
    entities: set[str] = set()
    for group in groups:
        for h in group:
            key = (h.cond, h.start, h.end)
            if key in seen or len(evidence) >= MAX_EVIDENCE:
                continue
            seen.add(key)
            evidence.append(_evidence(doc, h))
            if h.entity:
                entities.add(h.entity)
    return Match(
        rule_id=rule.id,
        rule_title=rule.title,
        severity=rule.severity,  # type: ignore[arg-type]
        article_id=article_id,
        watchlist_version=compiled.version,
        channels=list(rule.channels),
        throttle_window_s=rule.throttle_window_s,
        group_by=list(rule.group_by),  # type: ignore[arg-type]
        evidence=evidence,
        entities=sorted(entities),
    )


def build_enriched(
    article_id: str,
    title: str,
    text: str,
    language: str | None = None,
    *,
    source: str | None = None,
    url: str | None = None,
) -> EnrichedArticle:
    """A minimal ``EnrichedArticle`` for text that did not go through enrichment, following
    the enrichment contract: ``clean_text`` is the title as paragraph 0, a blank line, then
    ``text``; naive paragraphs (blank lines) and sentences; no lemmas, no entities."""
    clean = f"{title.strip()}{_SEP}{text}" if title.strip() else text
    paragraphs = split_paragraphs(clean)
    sentences: list[Sentence] = split_sentences(clean, paragraphs)
    return EnrichedArticle(
        article=ArticleRef(id=article_id, title=title, url=url, source=source, language=language),
        language=language or "xx",
        language_confidence=1.0 if language else 0.0,
        clean_text=clean,
        paragraphs=[Span(start=p.start, end=p.end) for p in paragraphs],
        sentences=sentences,
        pipeline="none",
        original_chars=len(clean),
    )


def match_text(
    compiled: CompiledWatchlist,
    article_id: str,
    title: str,
    text: str,
    language: str | None = None,
    *,
    source: str | None = None,
    url: str | None = None,
) -> list[Match]:
    """Convenience: match plain text (see ``build_enriched``); ``language=None`` = unknown,
    so terms of every language apply."""
    enriched = build_enriched(article_id, title, text, language, source=source, url=url)
    return match_article(compiled, enriched)
