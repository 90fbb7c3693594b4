"""The detector knows every language the shipped packs and the active watch-list cover."""

from __future__ import annotations

import pytest

from streams.enrich import EnrichConfig, LanguageIdentifier, normalize_lang
from streams.enrich.config import PACK_LANGUAGES
from streams.watchlist.load import PACKS_DIR, load_watchlist


def test_pack_languages_cover_the_shipped_packs() -> None:
    """Every language a shipped pack has terms for is in PACK_LANGUAGES."""
    found: set[str] = set()
    for pack in PACKS_DIR.glob("*.yaml"):
        model = load_watchlist(pack).effective()
        for concept in model.concepts.values():
            found |= {normalize_lang(lang) for lang in concept.terms if lang != "any"}
    assert found <= set(PACK_LANGUAGES), found - set(PACK_LANGUAGES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Säpo utreder om servrar i lagret har använts för spionage mot svenska företag.", "sv"),
        ("PET undersøger, om servere på lageret er brugt til spionage mod danske firmaer.", "da"),
        ("PST undersøker om servere på lageret er brukt til spionasje mot norske bedrifter.", "nb"),
        ("Els Mossos examinen si els servidors del magatzem es van fer servir per espiar.", "ca"),
        ("Anchetatorii verifică dacă serverele depozitului au fost folosite pentru spionaj.", "ro"),
        ("捜査当局は、倉庫のサーバーが諜報活動に使われた可能性を調べている。", "ja"),
        ("수사 당국은 창고 서버가 첩보 활동에 쓰였는지 조사하고 있다.", "ko"),
        ("Поліція з'ясовує, чи використовували сервери складу для шпигунства.", "uk"),
        ("Policie prověřuje, zda servery skladu nesloužily ke špionáži.", "cs"),
        (
            "Polis, depodaki sunucuların casusluk için kullanılıp kullanılmadığını araştırıyor.",
            "tr",
        ),
        ("Poliisi selvittää, käytettiinkö varaston palvelimia vakoiluun.", "fi"),
        (
            "Η αστυνομία ερευνά αν οι διακομιστές της αποθήκης χρησιμοποιήθηκαν για κατασκοπεία.",
            "el",
        ),
        ("Polisi menyelidiki apakah server gudang digunakan untuk kegiatan spionase.", "id"),
    ],
)
def test_default_detector_knows_pack_languages(text: str, expected: str) -> None:
    """With default settings, pack languages are detected as themselves (not a neighbour)."""
    config = EnrichConfig()
    lang, confidence = LanguageIdentifier(config.detected_languages()).identify(text)
    assert lang == expected and confidence > 0.5


def test_watchlist_languages_join_the_detector() -> None:
    """A watch-list with Hungarian terms (no pack has any) makes the detector know Hungarian."""
    text = "A rendőrség szerint a raktár szervereit kémkedésre használták a tavalyi évben."
    config = EnrichConfig()
    assert LanguageIdentifier(config.detected_languages()).identify(text)[0] != "hu"
    extended = config.with_detector_languages(["hu", "any"])
    assert LanguageIdentifier(extended.detected_languages()).identify(text)[0] == "hu"
