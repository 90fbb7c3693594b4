"""Run a text through the real enrichment and the example watch-list (for rendering tests)."""

from __future__ import annotations

from schemas.records import Evidence, RawArticle
from streams.enrich import EnrichConfig, Enricher
from streams.settings import DEFAULT_WATCHLIST
from streams.watchlist import load_and_compile, match_article

_MISSING_MODELS = {"de": "de_core_news_sm", "en": "en_core_web_sm", "xx": "xx_ent_wiki_sm"}


def enrich_and_match(text: str, title: str = "Hub report") -> list[Evidence]:
    """The evidence of rule ``alibaba-espionage`` on ``text`` after spaCy enrichment."""
    compiled = load_and_compile(DEFAULT_WATCHLIST)
    enricher = Enricher(EnrichConfig(models=_MISSING_MODELS, freeze_gc=False))
    enricher.set_entity_patterns(compiled.entity_patterns())
    enriched = enricher.enrich(RawArticle(id="r1", title=title, text=text))
    [match] = [m for m in match_article(compiled, enriched) if m.rule_id == "alibaba-espionage"]
    return list(match.evidence)
