"""Issue 15.1: the watch-list EntityRuler filled by token hashes finds exactly the entities
spaCy's own ``add_patterns`` finds, costs no pattern Docs, and is shared between pipelines."""

from __future__ import annotations

from typing import Any

import pytest
import spacy

from streams.enrich import normalize_patterns
from streams.enrich.nlp import RULER_NAME, PipelineStore
from streams.enrich.ruler import SharedPhrases, add_ruler_patterns, skip_empty_check

ALIASES = [
    ("acme", "Acme"),
    ("acme", "Acme Corp."),
    ("usst", "U.S. Steel"),
    ("att", "AT&T"),
    ("loreal", "L'Oréal"),
    ("ml", "Müller-Lüdenscheidt GmbH"),
    ("dont", "Don't Panic Ltd"),
    ("three", "3M Co."),
    ("mail", "e-mail Partners"),
    ("zb", "z.B. Holding"),
    ("alibaba", "阿里巴巴"),
    ("dup1", "Orion"),
    ("dup2", "Orion"),  # one alias, two entities: which one wins must not change
    ("the", "The"),
    ("org", "ORG"),  # a spaCy symbol: its hash is the symbol id
]
TEXTS = [
    "Acme Corp. and ACME, U.S. Steel, AT&T and L'Oréal met Müller-Lüdenscheidt GmbH.",
    "Don't Panic Ltd sued 3M Co. over e-mail Partners; z.B. Holding watched. The ORG Orion.",
    "acme corp. and at&t and l'oréal in lower case, 阿里巴巴 in Chinese, orion.",
    "U.S.Steel,AT&T;(Acme)Orion's The end.",
]


#: names every rule-based tokenizer cuts alike (at spaces only)
PLAIN = [("acme", "Acme"), ("acme", "Acme Group"), ("orion", "Orion Holdings")]


def _patterns(aliases: list[tuple[str, str]] = ALIASES) -> list[dict[str, Any]]:
    return normalize_patterns(
        [{"label": "ORG", "pattern": text, "id": ident} for ident, text in aliases]
        + [{"label": "MISC", "pattern": [{"LOWER": "panic"}], "id": "panic"}]
    )


def _entities(nlp: Any, texts: list[str]) -> list[list[tuple[int, int, str, str]]]:
    return [[(e.start, e.end, e.label_, e.ent_id_) for e in nlp(t).ents] for t in texts]


def _pipeline(
    lang: str,
    attr: str,
    fast: bool,
    shared: SharedPhrases | None = None,
    aliases: list[tuple[str, str]] = ALIASES,
) -> Any:
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer", first=True)
    config = {"phrase_matcher_attr": attr, "overwrite_ents": False}
    ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, config=config, last=True)
    patterns = _patterns(aliases)
    if fast:
        add_ruler_patterns(nlp, ruler, RULER_NAME, attr, patterns, shared=shared, version=1)
    else:
        ruler.add_patterns(patterns)
    return nlp


@pytest.mark.parametrize("attr", ["ORTH", "LOWER"])
@pytest.mark.parametrize("lang", ["en", "de", "fr", "xx", "zh"])
def test_same_entities_as_spacy_add_patterns(lang: str, attr: str) -> None:
    """Every language's tokenizer (zh: the fallback path) gives the same entities."""
    expected = _entities(_pipeline(lang, attr, fast=False), TEXTS)
    assert _entities(_pipeline(lang, attr, fast=True), TEXTS) == expected
    assert any(expected)


def test_no_pattern_docs_and_no_pattern_lexemes_in_the_pipeline() -> None:
    """The pipeline's vocabulary does not grow by the pattern tokens and match keys."""
    spacy_nlp, fast_nlp = _pipeline("en", "ORTH", fast=False), _pipeline("en", "ORTH", fast=True)
    fast_ruler = fast_nlp.get_pipe(RULER_NAME)
    assert "Lüdenscheidt" in spacy_nlp.vocab.strings
    assert "Lüdenscheidt" not in fast_nlp.vocab.strings
    assert "ORG||acme" not in fast_nlp.vocab.strings
    assert len(fast_ruler) == len(spacy_nlp.get_pipe(RULER_NAME)) == len(_patterns())
    assert not any(hasattr(p, "text") for ps in fast_ruler.phrase_patterns.values() for p in ps)


def test_pipelines_that_tokenize_alike_share_one_matcher() -> None:
    """English and German cut plain names alike: one trie; other cuts or a new version: not."""
    shared = SharedPhrases()
    en = _pipeline("en", "ORTH", True, shared, PLAIN).get_pipe(RULER_NAME)
    de = _pipeline("de", "ORTH", True, shared, PLAIN).get_pipe(RULER_NAME)
    assert en.phrase_matcher is de.phrase_matcher
    tricky = [_pipeline(lang, "ORTH", True, shared).get_pipe(RULER_NAME) for lang in ("en", "de")]
    assert tricky[0].phrase_matcher is not tricky[1].phrase_matcher  # "z.B.", "Don't"...
    nlp = spacy.blank("fr")
    ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME, config={"overwrite_ents": False})
    add_ruler_patterns(nlp, ruler, RULER_NAME, "ORTH", _patterns(PLAIN), shared=shared, version=2)
    assert ruler.phrase_matcher is not en.phrase_matcher


def test_store_rebuilds_rulers_with_shared_matchers() -> None:
    """``PipelineStore`` uses the fast path; a pattern swap reaches every pipeline."""
    store = PipelineStore({}, max_chars=10_000, freeze_gc=False)
    store.set_patterns(_patterns(PLAIN))
    pipes = [store.get(lang) for lang in ("en", "de")]
    for pipe in pipes:
        store.sync_ruler(pipe)
    rulers = [p.nlp.get_pipe(RULER_NAME) for p in pipes]
    assert rulers[0].phrase_matcher is rulers[1].phrase_matcher
    store.set_patterns(normalize_patterns([{"label": "ORG", "pattern": "Zeta", "id": "z"}]))
    for pipe in pipes:
        store.sync_ruler(pipe)
    assert [(e.text, e.ent_id_) for e in pipes[1].nlp("Zeta and Acme.").ents] == [("Zeta", "z")]


def test_ruler_with_patterns_stops_recounting_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15.2: no pattern count per document once the ruler has patterns; same entities."""
    expected = _entities(_pipeline("en", "ORTH", fast=True), TEXTS)
    nlp = _pipeline("en", "ORTH", fast=True)
    assert skip_empty_check(nlp.get_pipe(RULER_NAME))
    counts: list[int] = []
    real_len = type(nlp.get_pipe(RULER_NAME)).__len__
    monkeypatch.setattr(
        type(nlp.get_pipe(RULER_NAME)), "__len__", lambda r: counts.append(1) or real_len(r)
    )
    assert _entities(nlp, TEXTS) == expected
    assert counts == []


def test_empty_ruler_keeps_spacys_warning() -> None:
    """A ruler without patterns is left alone: spaCy still warns that it has none."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name=RULER_NAME)
    assert not skip_empty_check(ruler)
    with pytest.warns(UserWarning, match="W036"):
        nlp("Acme")


def test_store_rulers_skip_the_count() -> None:
    """``PipelineStore`` applies the skip to the rulers it builds."""
    store = PipelineStore({}, max_chars=10_000, freeze_gc=False)
    store.set_patterns(_patterns(PLAIN))
    pipe = store.get("en")
    store.sync_ruler(pipe)
    ruler = pipe.nlp.get_pipe(RULER_NAME)
    assert "_require_patterns" in vars(ruler)  # the per-document count is replaced
    assert [(e.text, e.ent_id_) for e in pipe.nlp("Acme Group and Orion Holdings.").ents] == [
        ("Acme Group", "acme"),
        ("Orion Holdings", "orion"),
    ]
