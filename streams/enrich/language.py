"""Language identification with lingua, restricted to the configured languages.

A language given by the producer is trusted (confidence 1.0). Otherwise lingua picks among
the configured languages it supports; text without any letter, or a configuration with no
language lingua knows, gives ``UNDETERMINED`` (``"xx"``, spaCy's multi-language code) with
confidence 0.0. Detectors are built once per process per language set (building and the
first use load lingua's models, which is the expensive part).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from streams.enrich.config import normalize_lang

__all__ = ["UNDETERMINED", "LanguageIdentifier"]

log = logging.getLogger(__name__)

UNDETERMINED = "xx"

_DETECTORS: dict[tuple[str, ...], Any] = {}
_DETECTORS_LOCK = threading.Lock()


def _lingua_languages(codes: Sequence[str]) -> list[Any]:
    from lingua import IsoCode639_1, Language

    out = []
    for code in codes:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is None or code == UNDETERMINED:
            if code != UNDETERMINED:
                log.warning("language %r is not supported by the language detector; ignored", code)
            continue
        out.append(Language.from_iso_code_639_1(iso))
    return out


def _detector(codes: tuple[str, ...]) -> Any:
    with _DETECTORS_LOCK:
        if codes not in _DETECTORS:
            from lingua import LanguageDetectorBuilder

            languages = _lingua_languages(codes)
            _DETECTORS[codes] = (
                LanguageDetectorBuilder.from_languages(*languages).build()
                if len(languages) >= 2
                else None
            )
        return _DETECTORS[codes]


class LanguageIdentifier:
    """Detects the language of a text among ``languages`` (ISO 639-1 codes)."""

    def __init__(self, languages: Sequence[str], *, sample_chars: int = 400) -> None:
        codes = tuple(sorted({normalize_lang(c) for c in languages} - {UNDETERMINED}))
        supported = _lingua_languages(codes)
        self.languages = tuple(lang.iso_code_639_1.name.lower() for lang in supported)
        self.sample_chars = sample_chars
        self._only = self.languages[0] if len(self.languages) == 1 else None

    def warm_up(self) -> None:
        """Build the detector and load its models now instead of on the first article."""
        detector = _detector(self.languages)
        if detector is not None:
            detector.compute_language_confidence_values("warm up the models")

    def identify(self, text: str, given: str | None = None) -> tuple[str, float]:
        """``(language, confidence)`` for ``text``; ``given`` (producer's code) wins if set."""
        if given and given.strip():
            return normalize_lang(given), 1.0
        sample = text[: self.sample_chars]
        if not any(ch.isalpha() for ch in sample):
            return UNDETERMINED, 0.0
        if self._only is not None:
            return self._only, 1.0
        detector = _detector(self.languages)
        if detector is None:
            return UNDETERMINED, 0.0
        values = detector.compute_language_confidence_values(sample)
        if not values or values[0].value <= 0.0:
            return UNDETERMINED, 0.0
        best = values[0]
        return best.language.iso_code_639_1.name.lower(), float(min(max(best.value, 0.0), 1.0))
