"""Matching semantics: normalization, compounds, word boundaries, scopes, vetoes, evidence."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from schemas.records import ArticleRef, EnrichedArticle, Entity, Lemma, Span
from streams.watchlist import CompiledWatchlist, build_enriched, match_article, match_text
from streams.watchlist import match as match_module

Build = Callable[..., CompiledWatchlist]
Fired = Callable[..., list[str]]


def concept(lang: str, *terms: str) -> dict[str, Any]:
    """A one-concept ``concepts`` mapping named c."""
    return {"c": {"terms": {lang: list(terms)}}}


def test_nfkc_and_casefold(watchlist: Build, fired: Fired) -> None:
    """Fullwidth letters, case and ß/ss differences do not prevent a match."""
    wl = watchlist(concepts=concept("de", "Straße", "Spionage"), any=["concept:c"])
    assert fired(wl, "ＳＰＩＯＮＡＧＥ im Hafen", "de") == ["r"]
    assert fired(wl, "Die STRASSE war gesperrt.", "de") == ["r"]
    assert fired(wl, "Nichts davon.", "de") == []


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        ("Es gibt Spionagebedenken in Lüttich.", "Spionagebedenken"),
        ("Der Fall von Wirtschaftsspionage ist neu.", "Wirtschaftsspionage"),
        ("Industriespionage wird vermutet.", "Industriespionage"),
        ("mögliche Spionage- oder Einmischungsaktivitäten", "Spionage"),
        ("Der Vorwurf der Spio\u00adnage wiegt schwer.", "Spio\u00adnage"),
    ],
)
def test_german_compounds_and_hyphen_elision(watchlist: Build, text: str, surface: str) -> None:
    """A German term matches as modifier, head and before a hyphen elision; surface is the word."""
    wl = watchlist(concepts=concept("de", "Spionage"), any=["concept:c"])
    (m,) = match_text(wl, "a", "", text, "de")
    (ev,) = m.evidence
    assert ev.surface == surface
    assert text[ev.start : ev.end] == surface


def test_short_terms_do_not_match_inside_compounds(watchlist: Build, fired: Fired) -> None:
    """Below the minimum length a German term matches whole words only (Rat, not Beratung)."""
    wl = watchlist(concepts=concept("de", "Rat"), any=["concept:c"])
    assert fired(wl, "Die Beratung dauerte lange.", "de") == []
    assert fired(wl, "Der Rat tagte.", "de") == ["r"]


def test_whole_word_marker_in_compounding_language(watchlist: Build, fired: Fired) -> None:
    """'=Agent' does not match the false friend 'Nachrichtenagentur'."""
    wl = watchlist(concepts=concept("de", "=Agent"), any=["concept:c"])
    assert fired(wl, "meldete die Nachrichtenagentur Reuters", "de") == []
    assert fired(wl, "Ein Agent wurde enttarnt.", "de") == ["r"]


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (["ant"], "The port of Antwerp grew.", []),
        (["ant"], "An ant crossed.", ["r"]),
        (["spy"], "New spyware found.", []),
        (["spy*"], "New spyware found.", ["r"]),
        (["*ware"], "New spyware found.", ["r"]),
        (["spy"], "A spy, they said.", ["r"]),
    ],
)
def test_whole_words_and_wildcards_in_english(
    watchlist: Build, fired: Fired, terms: list[str], text: str, expected: list[str]
) -> None:
    """Outside compounding languages terms match whole words unless a wildcard says otherwise."""
    wl = watchlist(concepts=concept("en", *terms), any=["concept:c"])
    assert fired(wl, text, "en") == expected


def test_cjk_substring(watchlist: Build) -> None:
    """Chinese terms match as substrings, with exact offsets."""
    wl = watchlist(concepts=concept("zh", "间谍"), any=["concept:c"])
    text = "比利时调查阿里巴巴涉嫌间谍活动。"
    (m,) = match_text(wl, "a", "", text, "zh")
    assert m.evidence[0].surface == "间谍"
    assert text[m.evidence[0].start : m.evidence[0].end] == "间谍"


def test_phrase_across_line_breaks(watchlist: Build, fired: Fired) -> None:
    """A phrase matches across runs of spaces and line breaks."""
    wl = watchlist(concepts=concept("en", "export controls"), any=["concept:c"])
    assert fired(wl, "new export\n   controls were announced", "en") == ["r"]


def test_terms_apply_to_their_language(watchlist: Build, fired: Fired) -> None:
    """A German term does not fire on an English article; unknown language tries all terms."""
    wl = watchlist(concepts=concept("de", "Gift"), any=["concept:c"])
    assert fired(wl, "A gift for you.", "en") == []
    assert fired(wl, "Gift im Wasser.", "de") == ["r"]
    assert fired(wl, "Gift im Wasser.", None) == ["r"]


def test_any_language_terms_take_the_article_language(watchlist: Build, fired: Fired) -> None:
    """An inline term matches inside compounds in German articles, whole words elsewhere."""
    wl = watchlist(all=["term:Hafen"])
    assert fired(wl, "Der Containerhafen ist voll.", "de") == ["r"]
    assert fired(wl, "Containerhafen is a German word.", "en") == []


PARAGRAPHS = "Alibaba expands.\n\nA spy was arrested.\n\nAlibaba and a spy met. The fiction ended."


@pytest.mark.parametrize(
    ("within", "none", "text", "expected"),
    [
        ("paragraph", [], "Alibaba expands.\n\nA spy was arrested.", []),
        ("article", [], "Alibaba expands.\n\nA spy was arrested.", ["r"]),
        ("sentence", [], "Alibaba grows. A spy was arrested.", []),
        ("paragraph", [], "Alibaba grows. A spy was arrested.", ["r"]),
        ("paragraph", ["term:fiction"], "Alibaba and a spy. A fiction.", []),
        ("paragraph", ["term:fiction"], "Alibaba and a spy.\n\nA fiction.", ["r"]),
        ("article", ["term:fiction"], "Alibaba and a spy.\n\nA fiction.", []),
        ("sentence", ["term:fiction"], "Alibaba and a spy. A fiction.", ["r"]),
        ("5 tokens", [], "Alibaba hired a spy.", ["r"]),
        ("5 tokens", [], "Alibaba hired one two three four five six a spy.", []),
        ("5 tokens", ["term:novel"], "Alibaba hired a spy novel.", []),
        ("5 tokens", ["term:novel"], "Alibaba hired a spy. A long time later a novel.", ["r"]),
    ],
)
def test_scopes_and_vetoes(
    watchlist: Build, fired: Fired, within: str, none: list[str], text: str, expected: list[str]
) -> None:
    """All conditions must meet within the scope; a 'none' condition vetoes in the same scope."""
    wl = watchlist(
        entities={"alibaba": {"aliases": ["Alibaba"]}},
        all=["entity:alibaba", "term:spy"],
        none=none,
        within=within,
    )
    assert fired(wl, text, "en") == expected


def test_any_needs_one_of(watchlist: Build, fired: Fired) -> None:
    """'any' fires when at least one condition matches, together with every 'all' condition."""
    wl = watchlist(all=["term:port"], any=["term:strike", "term:blockade"])
    assert fired(wl, "The port faces a blockade.", "en") == ["r"]
    assert fired(wl, "The port is calm.", "en") == []


def test_rule_language_and_source_filters(watchlist: Build) -> None:
    """Rules limited to languages or sources ignore other articles."""
    wl = watchlist(all=["term:spy"], languages=["en"], sources=["*.example.com", "wire"])
    assert match_text(wl, "a", "", "a spy", "en", url="https://news.example.com/x")
    assert match_text(wl, "a", "", "a spy", "en", source="Wire")
    assert not match_text(wl, "a", "", "a spy", "en", source="blog")
    assert not match_text(wl, "a", "", "a spy", "fr", source="wire")


def test_entity_genitive_and_longest_alias(watchlist: Build) -> None:
    """'Alibabas' matches the alias Alibaba; the longest overlapping alias is the evidence."""
    wl = watchlist(
        entities={"alibaba": {"aliases": ["Alibaba", "Alibaba Group"]}},
        all=["entity:alibaba"],
        within="article",
    )
    (m,) = match_text(wl, "a", "", "Alibabas Zentrum", "de")
    assert m.evidence[0].surface == "Alibabas"
    (m,) = match_text(wl, "a", "", "the Alibaba Group Holding", "en")
    assert [e.surface for e in m.evidence] == ["Alibaba Group"]
    assert m.entities == ["alibaba"]
    assert not match_text(wl, "a", "", "Alibabaland", "en")


def test_regex_condition(watchlist: Build, fired: Fired) -> None:
    """A regex condition runs over the normalized text and yields evidence in original offsets."""
    wl = watchlist(all=[r"regex:cve-\d{4}-\d{4,}"], within="article")
    (m,) = match_text(wl, "a", "", "Patch for CVE-2024-12345 released", "en")
    assert m.evidence[0].surface == "CVE-2024-12345"
    assert fired(wl, "No identifiers here.", "en") == []


def test_lemmas_from_enrichment_are_matched(watchlist: Build) -> None:
    """A term matches an inflected token through the lemma the enrichment supplied."""
    wl = watchlist(concepts=concept("fr", "espion"), all=["concept:c"], within="article")
    text = "Deux espionnes ont été arrêtées."
    enriched = build_enriched("a", "", text, "fr")
    assert match_article(wl, enriched) == []
    start = text.index("espionnes")
    enriched.lemmas = [Lemma(start=start, end=start + 9, lemma="espion")]
    (m,) = match_article(wl, enriched)
    assert m.evidence[0].surface == "espionnes"


def test_ner_labels_are_checked_only_with_a_model(watchlist: Build) -> None:
    """An entity with labels needs an overlapping model entity of that label, if a model ran."""
    wl = watchlist(
        entities={"apple": {"aliases": ["Apple"], "labels": ["ORG"]}},
        all=["entity:apple"],
        within="article",
    )
    text = "Apple pie and Apple Inc. were discussed."
    enriched = build_enriched("a", "", text, "en")
    assert len(match_article(wl, enriched)[0].evidence) == 2  # no model: labels not checked
    enriched.entities = [
        Entity(start=14, end=24, text="Apple Inc.", label="ORG", sentence=0, origin="model"),
        Entity(start=0, end=5, text="Apple", label="PRODUCT", sentence=0, origin="model"),
    ]
    (m,) = match_article(wl, enriched)
    assert [(e.start, e.surface) for e in m.evidence] == [(14, "Apple")]


def test_false_friends_are_excluded(watchlist: Build, fired: Fired) -> None:
    """Concept exclusions drop hits inside false friends (Protestanten for protest)."""
    wl = watchlist(
        concepts={"p": {"terms": {"de": ["Protest"]}, "exclude": {"de": ["Protestant"]}}},
        any=["concept:p"],
    )
    assert fired(wl, "Die Protestanten feierten.", "de") == []
    assert fired(wl, "Die Massenproteste hielten an.", "de") == ["r"]


def test_match_record_is_complete(watchlist: Build) -> None:
    """A match carries rule, severity, channels, throttle, version and per-condition evidence."""
    wl = watchlist(
        entities={"acme": {"aliases": ["ACME"]}},
        all=["entity:acme", "term:spy"],
        severity="critical",
        channels=["console", "slack:#sec", "email:sec@example.com", "webhook"],
        throttle={"per": "story", "window": "90m"},
        title="ACME spies",
    )
    text = "Intro.\n\nACME hired a spy. Nothing else."
    (m,) = match_text(wl, "article-7", "Title", text, "en")
    assert (m.rule_id, m.rule_title, m.severity, m.article_id) == (
        "r",
        "ACME spies",
        "critical",
        "article-7",
    )
    assert m.channels == ["console", "slack:#sec", "email:sec@example.com", "webhook"]
    assert m.throttle_window_s == 5400
    assert m.watchlist_version == wl.version and wl.version.startswith("sha256:")
    assert [e.condition for e in m.evidence] == ["entity:acme", "term:spy"]
    enriched = build_enriched("article-7", "Title", text, "en")
    for ev in m.evidence:
        assert enriched.clean_text[ev.start : ev.end] == ev.surface
        sentence = enriched.sentences[ev.sentence]
        assert sentence.paragraph == ev.paragraph == 2
        assert ev.snippet == "ACME hired a spy."


def test_title_outside_clean_text_is_matched(watchlist: Build) -> None:
    """A record whose clean text lacks the title still matches it; such evidence has index -1."""
    wl = watchlist(all=["term:spy"], within="article")
    enriched = EnrichedArticle(
        article=ArticleRef(id="a", title="Spy story"),
        language="en",
        language_confidence=1.0,
        clean_text="Body without the word.",
        paragraphs=[Span(start=0, end=22)],
    )
    (m,) = match_article(wl, enriched)
    (ev,) = m.evidence
    assert (ev.surface, ev.start, ev.paragraph, ev.sentence) == ("Spy", 0, -1, -1)
    assert ev.snippet == "Spy story"


def test_only_rules_whose_terms_hit_are_evaluated(
    watchlist: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 300 rules, an article hitting one rule's terms evaluates that rule only."""
    rules = [{"id": f"r{i}", "title": "t", "all": [f"entity:e{i}", "term:spy"]} for i in range(300)]
    entities = {f"e{i}": {"aliases": [f"Company{i}x"]} for i in range(300)}
    wl = watchlist(entities=entities, rules=rules)
    calls: list[str] = []
    original = match_module._evaluate

    def counting(rule: Any, doc: Any, hits: Any) -> Any:
        calls.append(rule.id)
        return original(rule, doc, hits)

    monkeypatch.setattr(match_module, "_evaluate", counting)
    matches = match_text(wl, "a", "", "Company7x hired a spy.", "en")
    assert [m.rule_id for m in matches] == ["r7"]
    assert calls == ["r7"]


def test_version_is_a_content_hash(write_yaml: Callable[..., Any]) -> None:
    """Comments and formatting do not change the version; content does."""
    from streams.watchlist import load_and_compile

    a = load_and_compile(write_yaml("rules: [{id: r, title: t, all: ['term:x']}]\n", "a.yaml"))
    b = load_and_compile(
        write_yaml("# comment\nrules:\n  - id: r\n    title: t\n    all: ['term:x']\n", "b.yaml")
    )
    c = load_and_compile(write_yaml("rules: [{id: r, title: t, all: ['term:y']}]\n", "c.yaml"))
    assert a.version == b.version != c.version


def test_entity_patterns_for_the_entity_ruler(watchlist: Build) -> None:
    """Every literal alias becomes an EntityRuler pattern with the entity id and first label."""
    wl = watchlist(
        entities={
            "alibaba": {"aliases": ["Alibaba", "=Cainiao", "Ali*"], "labels": ["ORG"]},
            "x": {"aliases": ["X Corp"]},
        },
        all=["entity:alibaba"],
    )
    assert wl.entity_patterns() == [
        {"label": "ORG", "pattern": "Alibaba", "id": "alibaba"},
        {"label": "ORG", "pattern": "Cainiao", "id": "alibaba"},
        {"label": "WATCHLIST", "pattern": "X Corp", "id": "x"},
    ]
