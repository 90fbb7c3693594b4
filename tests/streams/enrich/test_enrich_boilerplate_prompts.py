"""Boilerplate that used to survive: newsletter/app prompts, gallery controls, teaser lists,
long cookie banners; the article's own sentences stay."""

from __future__ import annotations

from streams.enrich.boilerplate import load_boilerplate
from streams.enrich.clean import clean_article

ARTICLE = [
    "The harbour authority said on Tuesday that container handling had resumed.",
    "Engineers restored the scheduling system from backups overnight, officials said.",
]


def _clean(lines: list[str], lang: str = "en") -> list[str]:
    body = "\n".join(lines)
    bp = load_boilerplate([lang])
    text = clean_article("", body, boilerplate=bp, max_chars=100_000).text
    return text.split("\n\n")


def test_newsletter_and_app_prompts_are_removed() -> None:
    """Sign-up and app prompts (any case) are removed; the article stays."""
    prompts = [
        "Subscribe to the Morning Review newsletter",
        "CLICK HERE TO GET THE FOX NEWS APP",
        "GET FOX BUSINESS ON THE GO BY CLICKING HERE",
        "Pick Six Newsletter",
        "Thanks for signing up!",
        "There was an error processing your subscription.",
        "Download the Daily Planet app for breaking news alerts.",
    ]
    assert _clean([ARTICLE[0], *prompts, ARTICLE[1]]) == ARTICLE


def test_gallery_controls_are_removed() -> None:
    """Gallery widgets ("1of/8", "Image 1 of 8", Caption, Close, Back to Gallery) go."""
    controls = ["Image", "1of/8", "Caption", "Close", "Image 1 of 8", "1 / 8", "Back to Gallery"]
    assert _clean([ARTICLE[0], *controls, ARTICLE[1]]) == ARTICLE


def test_related_teaser_list_after_a_heading_is_removed() -> None:
    """Headlines listed under "Related articles" go; the next sentence ends the list."""
    lines = [
        ARTICLE[0],
        "Related articles",
        "Port strikes spread to three more cities",
        "Shipping rates hit a two-year high",
        "Inside the control room of Europe's busiest harbour",
        ARTICLE[1],
    ]
    assert _clean(lines) == ARTICLE


def test_subheadings_without_a_teaser_heading_stay() -> None:
    """A short subheading of the article itself is not taken for a teaser."""
    lines = [ARTICLE[0], "What happens next", ARTICLE[1]]
    assert _clean(lines) == lines


def test_long_cookie_banner_is_removed_but_not_a_sentence_about_cookies() -> None:
    """A 35-word cookie banner goes (line rules stopped at 30 words); a story about a
    bakery's cookies stays."""
    banner = (
        "We use cookies and similar technologies to improve your experience on our website, "
        "to analyse traffic and to personalise content and advertising. By clicking accept "
        "you agree to our use of cookies as described in our cookie policy."
    )
    assert len(banner.split()) >= 35
    bakery = "The bakery uses cookies from an old family recipe, the owner said on Monday."
    assert _clean([ARTICLE[0], banner, ARTICLE[1]]) == ARTICLE
    assert _clean([ARTICLE[0], bakery]) == [ARTICLE[0], bakery]


def test_german_prompts_and_gallery() -> None:
    """German newsletter prompt, gallery counter and "Mehr zum Thema" teaser list go."""
    lines = [
        "Der Hafen meldete am Dienstag, dass der Betrieb wieder läuft.",
        "Jetzt den Morgen-Newsletter abonnieren",
        "Bild 2 von 12",
        "Mehr zum Thema",
        "Streiks in drei weiteren Häfen",
        "Die Reederei rechnet mit Verzögerungen bis Freitag.",
    ]
    assert _clean(lines, "de") == [lines[0], lines[-1]]
