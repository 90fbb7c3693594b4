"""Language identification restricted to the configured languages; producer codes trusted."""

from __future__ import annotations

import logging

import pytest

from streams.enrich import UNDETERMINED, EnrichConfig, LanguageIdentifier, normalize_lang
from streams.settings import SAMPLES_DIR

LANGS = ["de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Der belgische Geheimdienst überwacht das Logistikzentrum des Unternehmens.", "de"),
        ("Belgian intelligence is monitoring the company's logistics hub at the airport.", "en"),
        ("Les services de renseignement belges surveillent le centre logistique.", "fr"),
        ("De Belgische inlichtingendienst houdt het logistieke centrum in de gaten.", "nl"),
        ("Бельгийская разведка следит за логистическим центром компании.", "ru"),
        ("比利时情报部门正在监视阿里巴巴在列日的物流中心。", "zh"),
    ],
)
def test_detects_configured_languages(text: str, expected: str) -> None:
    """Clear sentences are assigned their language with a high confidence."""
    lang, confidence = LanguageIdentifier(LANGS).identify(text)
    assert lang == expected and confidence > 0.5


def test_detection_is_restricted_to_configured_languages() -> None:
    """A German sentence is labelled with one of the configured languages only."""
    lang, _ = LanguageIdentifier(["en", "fr"]).identify("Der Geheimdienst überwacht das Zentrum.")
    assert lang in {"en", "fr"}


def test_producer_language_is_trusted_and_normalised() -> None:
    """A producer-given language wins with confidence 1.0, normalised to its base code."""
    ident = LanguageIdentifier(LANGS)
    assert ident.identify("The text is English.", given="de-DE") == ("de", 1.0)
    assert ident.identify("whatever", given="no") == ("nb", 1.0)
    assert normalize_lang("ZH_Hans") == "zh"


def test_text_without_letters_is_undetermined() -> None:
    """Digits and punctuation give the undetermined code with zero confidence."""
    assert LanguageIdentifier(LANGS).identify("123 456 — 7,89 %") == (UNDETERMINED, 0.0)


def test_single_language_needs_no_detector() -> None:
    """With one configured language every text with letters is that language."""
    assert LanguageIdentifier(["de"]).identify("anything at all") == ("de", 1.0)


def test_unsupported_code_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A configured code the detector does not know is dropped and named in a warning."""
    with caplog.at_level(logging.WARNING):
        ident = LanguageIdentifier(["de", "en", "qq"])
    assert ident.languages == ("de", "en")
    assert any("'qq'" in r.getMessage() for r in caplog.records)


def test_background_warm_up_loads_once_and_warm_up_waits_for_it() -> None:
    """``start_warm_up`` loads in one background thread per language set; ``warm_up`` waits
    for it, and the warmed detector then identifies as a cold one does."""
    identifier = LanguageIdentifier(["ca", "cy", "eu", "ga"])  # a set no other test builds
    thread = identifier.start_warm_up(delay=0.2)
    assert thread is not None and thread.name == "lingua-load" and thread.daemon
    assert identifier.start_warm_up() is None  # loading already: no second thread
    identifier.warm_up()
    assert not thread.is_alive()
    assert LanguageIdentifier(["ca", "cy", "eu", "ga"]).start_warm_up() is None  # built
    text = "Bore da, sut mae pawb heddiw? Mae'r tywydd yn braf iawn yng Nghymru eleni."
    lang, confidence = identifier.identify(text)
    assert lang == "cy" and confidence > 0.5


def test_background_warm_up_of_a_single_language_starts_no_thread() -> None:
    """One configured language needs no detector: nothing is loaded, nothing started."""
    assert LanguageIdentifier(["en"]).start_warm_up() is None


def test_pack_languages_are_detected_unless_switched_off() -> None:
    """By default the detector also knows the packs' languages; with
    ``NEWSWATCH_DETECT_PACK_LANGUAGES=false`` only the configured ones (one: no detector)."""
    from streams.enrich import EnrichConfig
    from streams.settings import Settings

    default = EnrichConfig.from_settings(Settings.load(languages=["en"]))
    assert {"de", "fr", "ja", "uk"} <= set(default.detected_languages())
    only = EnrichConfig.from_settings(Settings.load(languages=["en"], detect_pack_languages=False))
    assert only.detected_languages() == ["en"]
    assert LanguageIdentifier(only.detected_languages()).identify("Der Hund bellt.") == ("en", 1.0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("alibaba-liege-de.txt", "de"),
        ("alibaba-quartal-de.txt", "de"),
        ("aliexpress-soldes-fr.txt", "fr"),
        ("alibaba-cloud-en.txt", "en"),
    ],
)
def test_default_sample_finds_the_language_of_our_articles(name: str, expected: str) -> None:
    """Reading only the default sample, the detector still finds each sample article's
    language among all default candidates (the configured ones and the packs')."""
    config = EnrichConfig()
    text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
    assert len(text) > config.language_sample_chars
    ident = LanguageIdentifier(
        config.detected_languages(), sample_chars=config.language_sample_chars
    )
    lang, confidence = ident.identify(text)
    assert lang == expected and confidence > 0.9


def test_only_the_sample_is_read() -> None:
    """A German opening longer than the sample decides, however long the English rest is."""
    config = EnrichConfig()
    german = (SAMPLES_DIR / "alibaba-liege-de.txt").read_text(encoding="utf-8")
    english = (SAMPLES_DIR / "alibaba-cloud-en.txt").read_text(encoding="utf-8")
    text = german[: config.language_sample_chars] + " " + english * 3
    ident = LanguageIdentifier(
        config.detected_languages(), sample_chars=config.language_sample_chars
    )
    assert ident.identify(text)[0] == "de"
    assert (
        LanguageIdentifier(config.detected_languages(), sample_chars=len(text)).identify(text)[0]
        == "en"
    )
