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

from schemas.records import ArticleRef, EnrichedArticle, Match, Sentence, Span
from streams.watchlist._document import SEP, Doc
from streams.watchlist._evidence import MAX_EVIDENCE, build_match
from streams.watchlist._hits import collect, find_elided, materialize, regex_hits
from streams.watchlist._scopes import evaluate as _evaluate  # patched by a test: stays global
from streams.watchlist._scopes import rule_applies
from streams.watchlist.compile import CompiledWatchlist
from streams.watchlist.segment import split_paragraphs, split_sentences

__all__ = ["MAX_EVIDENCE", "build_enriched", "match_article", "match_text"]


def match_article(compiled: CompiledWatchlist, enriched: EnrichedArticle) -> list[Match]:
    """Every rule of ``compiled`` that fires on ``enriched``, with evidence (rule order)."""
    doc = Doc(enriched, skeleton_view=compiled.skeleton_keys > 0)
    rows, candidates = collect(compiled, doc)
    elided = find_elided(compiled, doc)
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
        and rule_applies(r, doc)
    ]
    if not rules:
        return []
    relevant = {c for r in rules for c in (*r.positive, *r.none)}
    relevant |= {"!" + c for c in relevant}
    hits = materialize(doc, rows, relevant)
    for cond, found in elided.items():
        if cond in relevant:
            hits[cond] = sorted(hits.get(cond, []) + found, key=lambda h: h.start)
    regex_done: set[str] = set()
    matches = []
    for rule in rules:
        for cond in (*rule.positive, *rule.none):
            if cond in compiled.regexes and cond not in regex_done:
                regex_done.add(cond)
                found = regex_hits(compiled, doc, cond)
                if found:
                    hits[cond] = sorted(hits.get(cond, []) + found, key=lambda h: h.start)
        groups = _evaluate(rule, doc, hits)
        if groups:
            matches.append(build_match(compiled, rule, doc, enriched.article.id, groups))
    return matches


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
    clean = f"{title.strip()}{SEP}{text}" if title.strip() else text
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
