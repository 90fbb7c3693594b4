"""Language identification with lingua, restricted to the configured languages.

A language given by the producer is trusted (confidence 1.0). Otherwise lingua picks among
the configured languages it supports; text without any letter, or a configuration with no
language lingua knows, gives ``UNDETERMINED`` (``"xx"``, spaCy's multi-language code) with
confidence 0.0. Detectors are built once per process per language set (building and the
first use load lingua's models, which is the expensive part).

lingua loads its models in Rust holding the GIL (seconds for a whole set; the models are
cached per process and shared by all detectors). ``warm_up`` therefore loads them in small
steps (one language and n-gram length, at most ~0.3 s), giving the GIL back in between, so
no other thread stalls for long; ``start_warm_up`` runs those steps in a background thread
(a worker: while it waits for the broker to admit it to its consumer group) and
``warm_up`` waits for that thread, then loads whatever is still missing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from streams.enrich.config import normalize_lang

__all__ = ["UNDETERMINED", "LanguageIdentifier"]

log = logging.getLogger(__name__)

UNDETERMINED = "xx"

_DETECTORS: dict[tuple[str, ...], Any] = {}
_DETECTORS_LOCK = threading.Lock()
_LOADED: set[Any] = set()  # lingua languages whose models this process has loaded
_LOADERS: dict[tuple[str, ...], threading.Thread] = {}
_WARM_UP_TEXT = "warm up the models"
_WARM_UP_WORD = "model"  # its prefixes load the 1- to 5-gram models one length at a time
_YIELD_S = 0.005


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


def _load_stepwise(codes: tuple[str, ...]) -> None:
    """Load the models the warm-up text needs for ``codes``, one language and n-gram length
    at a time, the GIL given back in between.

    lingua's models are cached per process and loaded on first use: a detector of two
    languages, one of them loaded already, loads only the other's; a text of ``n`` letters
    loads the n-gram models up to ``n``. Only languages written in the warm-up text's
    (Latin) script are loaded, as by the single warm-up text before.
    """
    from lingua import Language, LanguageDetectorBuilder

    latin = set(Language.all_with_latin_script())
    languages = [lang for lang in _lingua_languages(codes) if lang in latin]
    if len(languages) < 2:
        return
    anchor = languages[0]
    for language in languages[1:]:
        if language in _LOADED:
            continue
        pair = LanguageDetectorBuilder.from_languages(anchor, language).build()
        for length in range(1, len(_WARM_UP_WORD) + 1):
            pair.compute_language_confidence_values(_WARM_UP_WORD[:length])
            time.sleep(_YIELD_S)  # every waiting thread (event loop, Kafka client) runs
        _LOADED.update((anchor, language))


def _background_load(codes: tuple[str, ...], delay: float) -> None:
    time.sleep(delay)
    try:
        _load_stepwise(codes)
    except Exception as exc:  # warm_up loads what is missing
        log.warning("background load of the language models failed: %s", exc)


class LanguageIdentifier:
    """Detects the language of a text among ``languages`` (ISO 639-1 codes)."""

    def __init__(self, languages: Sequence[str], *, sample_chars: int = 400) -> None:
        codes = tuple(sorted({normalize_lang(c) for c in languages} - {UNDETERMINED}))
        supported = _lingua_languages(codes)
        self.languages = tuple(lang.iso_code_639_1.name.lower() for lang in supported)
        self.sample_chars = sample_chars
        self._only = self.languages[0] if len(self.languages) == 1 else None

    def start_warm_up(self, *, delay: float = 0.0) -> threading.Thread | None:
        """Start loading the models in a background thread after ``delay`` seconds (once
        per language set and process, else None; ``warm_up`` finishes the job)."""
        if len(self.languages) < 2:
            return None
        with _DETECTORS_LOCK:
            if self.languages in _DETECTORS or self.languages in _LOADERS:
                return None
            thread = threading.Thread(
                target=_background_load,
                args=(self.languages, delay),
                name="lingua-load",
                daemon=True,
            )
            _LOADERS[self.languages] = thread
        thread.start()
        return thread

    def warm_up(self) -> None:
        """Build the detector and load its models now instead of on the first article."""
        loader = _LOADERS.get(self.languages)
        if loader is not None and loader is not threading.current_thread():
            loader.join()
        _load_stepwise(self.languages)
        detector = _detector(self.languages)
        if detector is not None:
            detector.compute_language_confidence_values(_WARM_UP_TEXT)

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
