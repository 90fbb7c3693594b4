"""The newswatch data contract: pydantic models of topic records and of the watch-list."""

from schemas.records import (
    AlertRecord,
    ArticleRef,
    DeadLetter,
    EnrichedArticle,
    Entity,
    Evidence,
    Lemma,
    Match,
    OutcomeRecord,
    RawArticle,
    Sentence,
    Span,
)

__all__ = [
    "AlertRecord",
    "ArticleRef",
    "DeadLetter",
    "EnrichedArticle",
    "Entity",
    "Evidence",
    "Lemma",
    "Match",
    "OutcomeRecord",
    "RawArticle",
    "Sentence",
    "Span",
]
