"""Language gating by script: a wrong or uncertain language guess never silences a term."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from streams.watchlist import CompiledWatchlist, match_article
from streams.watchlist.match import build_enriched
from streams.watchlist.scripts import UNCERTAIN_BELOW, script_of, text_scripts

Build = Callable[..., CompiledWatchlist]


def _fires(compiled: CompiledWatchlist, text: str, lang: str, confidence: float) -> bool:
    enriched = build_enriched("a", "", text, lang).model_copy(
        update={"language_confidence": confidence}
    )
    return any(m.rule_id == "r" for m in match_article(compiled, enriched))


def _concept(terms: dict[str, list[str]]) -> dict[str, Any]:
    return {"c": {"terms": terms}}


def test_verbatim_term_survives_a_confident_wrong_guess(watchlist: Build) -> None:
    """An English sentence in an article detected as German (0.996) still fires `espionage`."""
    wl = watchlist(concepts=_concept({"en": ["espionage"]}), all=["concept:c"])
    text = "Jorvik Almsted vom Haus Brennekamp. X was accused of espionage."
    assert _fires(wl, text, "de", 0.996)


def test_romanian_terms_apply_to_romanian_taken_for_english(watchlist: Build) -> None:
    """The Romanian article of the report (detected as English, 0.68) keeps its terms."""
    wl = watchlist(
        concepts=_concept({"ro": ["activități de spionaj"]}),
        entities={"alibaba": {"aliases": ["Alibaba"]}},
        all=["entity:alibaba", "concept:c"],
    )
    assert _fires(wl, "Anchetă privind activități de spionaj la Alibaba.", "en", 0.68)


def test_short_false_friend_does_not_fire_on_a_confident_guess(watchlist: Build) -> None:
    """Dutch `haven` (port) stays silent in English "safe haven" detected with confidence."""
    wl = watchlist(concepts=_concept({"nl": ["haven"]}), all=["concept:c"])
    assert not _fires(wl, "Gold remains a safe haven for investors.", "en", 0.99)
    assert _fires(wl, "De haven van Rotterdam ligt stil.", "nl", 0.99)


def test_foreign_compound_rules_are_not_applied_verbatim(watchlist: Build) -> None:
    """A German term inside an English word does not fire when the guess is confident."""
    wl = watchlist(concepts=_concept({"de": ["Sanktionen"]}), all=["concept:c"])
    assert not _fires(wl, "The Sanktionenliste was published.", "en", 0.99)
    assert _fires(wl, "Neue Sanktionen gegen X.", "en", 0.99)


def test_uncertain_detection_applies_every_same_script_language(watchlist: Build) -> None:
    """Below the threshold, the terms of every language of the script apply in full."""
    wl = watchlist(concepts=_concept({"de": ["Spionage"]}), all=["concept:c"])
    text = "Wirtschaftsspionage bei Acme"
    assert _fires(wl, text, "nl", UNCERTAIN_BELOW - 0.1)
    assert not _fires(wl, text, "en", UNCERTAIN_BELOW + 0.4)  # compound: not verbatim


def test_terms_of_another_script_never_apply(watchlist: Build) -> None:
    """A Cyrillic term does not fire on a Latin-script article, even when uncertain."""
    wl = watchlist(concepts=_concept({"ru": ["шпионаж"], "en": ["spying"]}), all=["concept:c"])
    assert _fires(wl, "Обвинение в шпионаж было снято.", "en", 0.2)
    assert not _fires(wl, "Nothing to see here.", "ru", 0.2)


def test_norwegian_codes_are_one_language(watchlist: Build) -> None:
    """A detector's `nb` matches a pack's `no` terms in full (compound mode)."""
    wl = watchlist(concepts=_concept({"no": ["spionasje"]}), all=["concept:c"])
    assert _fires(wl, "Mistenkt for industrispionasje.", "nb", 1.0)


def test_scripts() -> None:
    """Scripts of terms and texts."""
    assert script_of("=Spionage*") == "latin"
    assert script_of("шпион") == "cyrillic"
    assert script_of("スパイ") == "kana"
    assert text_scripts("Huawei 制裁 ファーウェイ") == {"latin", "han", "kana"}


def test_full_compound_matches_its_elided_form(watchlist: Build) -> None:
    """`Spionageaktivitäten` matches "Spionage- oder Einmischungsaktivitäten" (and lists)."""
    wl = watchlist(concepts=_concept({"de": ["Spionageaktivitäten"]}), all=["concept:c"])
    assert _fires(wl, "Verdacht auf Spionage- oder Einmischungsaktivitäten.", "de", 1.0)
    assert _fires(wl, "Spionage-, Sabotage- und Einmischungsaktivitäten.", "de", 1.0)
    assert _fires(wl, "Wirtschaftsspionage- und Sabotageaktivitäten", "de", 1.0)
    assert not _fires(wl, "Spionage- und Sabotagefälle nehmen zu.", "de", 1.0)
    assert not _fires(wl, "Spionage- oder Einmischungsaktivitäten.", "en", 1.0)  # not German


def test_elided_hit_is_the_evidence(watchlist: Build) -> None:
    """The evidence of an elided hit spans the elided word to the completing word."""
    wl = watchlist(concepts=_concept({"de": ["Spionageaktivitäten"]}), all=["concept:c"])
    enriched = build_enriched("a", "", "Es gab Spionage- oder Einmischungsaktivitäten.", "de")
    (match,) = match_article(wl, enriched)
    assert match.evidence[0].surface == "Spionage- oder Einmischungsaktivitäten"


def test_names_take_case_endings_in_inflecting_languages(watchlist: Build) -> None:
    """Finnish `Huaweihin`, Polish `Huaweiem`/`Alibabą`, Czech `Alibaby` match the alias;
    not in English, not with a long tail (a compound)."""
    wl = watchlist(entities={"h": {"aliases": ["Huawei", "Alibaba"]}}, all=["entity:h"])
    assert _fires(wl, "Yhdysvallat laajentaa Huaweihin kohdistuvia pakotteita.", "fi", 1.0)
    assert _fires(wl, "Umowa z Huaweiem wygasła.", "pl", 1.0)
    assert _fires(wl, "Prokuratura bada powiązania z Alibabą.", "pl", 1.0)
    assert _fires(wl, "Zaměstnanec Alibaby byl zadržen.", "cs", 1.0)
    assert not _fires(wl, "The Huaweihin report.", "en", 1.0)
    assert not _fires(wl, "Huaweiverkosto laajenee.", "fi", 1.0)  # a compound, not an ending
