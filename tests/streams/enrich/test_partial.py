"""Partial texts: paywall markers per language, feed summaries, cut endings, teaser pages."""

from __future__ import annotations

import pytest

from streams.enrich.partial import PAYWALL_MARKERS, partial_reason

WHOLE = (
    "The port authority said on Monday that the new cranes arrived a week early. "
    "Unions welcomed the decision and said more jobs would follow next year."
)

PAYWALLS = {
    "en": "The board met on Monday.\n\nSubscribe to continue reading.",
    "de": "Der Vorstand tagte am Montag.\n\nJetzt abonnieren und weiterlesen.",
    "fr": "Le conseil s'est réuni lundi.\n\nArticle réservé aux abonnés.",
    "es": "La junta se reunió el lunes.\n\nSuscríbete para seguir leyendo.",
    "it": "Il consiglio si è riunito lunedì.\n\nArticolo riservato agli abbonati.",
    "nl": "Het bestuur kwam maandag bijeen.\n\nDit artikel is alleen voor abonnees.",
    "pt": "A direção reuniu-se na segunda-feira.\n\nConteúdo exclusivo para assinantes.",
}


@pytest.mark.parametrize("language", sorted(PAYWALLS))
def test_paywall_marker_in_the_page_language_is_flagged(language: str) -> None:
    """A "subscribe to read" marker in each of en de fr es it nl pt flags the text."""
    reason = partial_reason(PAYWALLS[language], language=language)
    assert reason is not None and reason.startswith("paywall: ")


def test_every_language_has_markers() -> None:
    """Markers exist for at least the seven languages the issue names, all lower case."""
    assert {"en", "de", "fr", "es", "it", "nl", "pt"} <= set(PAYWALL_MARKERS)
    for markers in PAYWALL_MARKERS.values():
        assert markers and all(m == m.casefold() for m in markers)


def test_marker_found_in_raw_text_when_cleaning_dropped_it() -> None:
    """The boilerplate filter may remove the prompt from the clean text: the raw text counts."""
    reason = partial_reason(WHOLE, language="en", raw_text=WHOLE + "\nSubscribe to read")
    assert reason == "paywall: 'subscribe to read'"


def test_whole_article_is_not_flagged() -> None:
    """Two complete sentences, plain text: no reason."""
    assert partial_reason(WHOLE, language="en") is None


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        (WHOLE, {"text_origin": "feed_summary"}, "feed summary only"),
        ("The minister said the talks would resume next week …", {}, "ends with an ellipsis"),
        ("The minister said the talks [...]", {}, "ends with an ellipsis"),
        (
            "The minister said. The talks on the new port would resume next week after the",
            {},
            "ends mid-sentence",
        ),
        ("Short page body.", {"content_type": "html"}, "teaser length (16 chars)"),
    ],
)
def test_truncation_signals(text: str, kwargs: dict[str, str], expected: str) -> None:
    """Feed summary only, a cut ending, an open last sentence and a tiny page are flagged."""
    assert partial_reason(text, language="en", **kwargs) == expected


def test_short_byline_without_punctuation_is_not_mid_sentence() -> None:
    """A closing byline ("Reuters") has no full stop but is no cut sentence."""
    assert partial_reason(WHOLE + "\n\nReporting by Jane Doe", language="en") is None
