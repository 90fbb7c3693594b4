"""``EnrichConfig``: every knob of the enrichment stage, independent of the worker settings.

The CLI maps ``streams.settings.Settings`` onto it (``EnrichConfig.from_settings``):
``languages`` → ``languages``, ``spacy_models`` → ``models``, ``max_article_chars`` →
``max_chars``, ``batch_size`` → ``batch_size``, ``max_vocab_strings`` → ``max_vocab_strings``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.settings import DEFAULT_LANGUAGES, DEFAULT_MAX_ARTICLE_CHARS, DEFAULT_SPACY_MODELS

__all__ = ["PACK_LANGUAGES", "EnrichConfig", "normalize_lang"]

#: Every language the shipped concept packs (streams/watchlist/packs) have terms for; the
#: language detector always knows them (a test keeps this in sync with the packs).
PACK_LANGUAGES = (
    "ca", "cs", "da", "de", "el", "en", "es", "fi", "fr", "id", "it", "ja", "ko", "nb", "nl",
    "pl", "pt", "ro", "ru", "sv", "tr", "uk", "zh",
)  # fmt: skip

#: Codes that name the same language for spaCy / spacy-lookups-data.
_LANG_ALIASES = {"no": "nb", "iw": "he", "in": "id", "zh-hans": "zh", "zh-hant": "zh"}


def normalize_lang(code: str) -> str:
    """``'de-DE'`` → ``'de'``, ``'no'`` → ``'nb'``, ``'ZH-Hans'`` → ``'zh'``; lower case."""
    code = code.strip().lower().replace("_", "-")
    if code in _LANG_ALIASES:
        return _LANG_ALIASES[code]
    base = code.split("-", 1)[0]
    return _LANG_ALIASES.get(base, base)


class EnrichConfig(BaseModel):
    """Configuration of one ``Enricher`` (languages, spaCy models, limits, data files)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="ISO 639-1 codes the language detector chooses from",
    )
    detector_languages: list[str] = Field(
        default_factory=lambda: list(PACK_LANGUAGES),
        description="languages the detector also knows: the shipped packs' and the active "
        "watch-list's (a detector that does not know a language guesses a neighbour of it)",
    )
    models: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_SPACY_MODELS),
        description="language → spaCy package name or pipeline directory; 'xx' serves the rest",
    )
    max_chars: int = Field(
        DEFAULT_MAX_ARTICLE_CHARS, ge=1_000, description="clean text longer than this is cut"
    )
    boilerplate_dirs: list[Path] = Field(
        default_factory=list,
        description="extra folders with <lang>.txt / common.txt boilerplate files (ops)",
    )
    batch_size: int = Field(32, ge=1, description="nlp.pipe batch size")
    ruler_attr: Literal["ORTH", "LOWER"] = Field(
        "ORTH", description="token attribute the watch-list EntityRuler matches on"
    )
    boilerplate_max_words: int = Field(
        30, ge=1, description="a line longer than this is never removed by a regex pattern"
    )
    language_sample_chars: int = Field(
        400,
        ge=100,
        description="how much clean text (from its start) the language detector reads; the "
        "detector's cost grows with it (400: ~0.5 ms per article with 23 candidate languages, "
        "600: ~0.8 ms). A shorter sample changes `language_confidence` slightly, rarely the "
        "language (lingua's test sentences: none of 1,150 at 400 chars, 2 at 300, 5 at 200)",
    )
    model_max_chars: int = Field(
        50_000,
        ge=1_000,
        description="statistical components see at most this much of an article; the rest "
        "gets tokenizer, sentences, lookup lemmas and the EntityRuler (bounds latency)",
    )
    max_vocab_strings: int = Field(
        30_000,
        ge=1_000,
        description="a pipeline whose vocabulary grew by more than this many strings since "
        "it was loaded is rebuilt in the background and swapped in (bounds RSS: each new "
        "token string stays interned for the pipeline's life)",
    )
    freeze_gc: bool = Field(
        True,
        description="gc.freeze() after loading pipelines: long-lived objects leave the "
        "cyclic GC's scans (a third of the record-building time otherwise)",
    )
    gc_threshold: int = Field(
        20_000,
        ge=700,
        description="cyclic GC generation-0 threshold set at warm-up when freeze_gc is on "
        "(Python's 700 collected every few hundred lemma objects: ~15 % of the CPU per "
        "article); generations 1 and 2 run every 20 collections of the one below",
    )
    import_modules: list[str] = Field(
        default_factory=list,
        description="modules imported before loading pipelines (custom spaCy components)",
    )
    preload: list[str] = Field(
        default_factory=list, description="languages whose pipelines load at start()"
    )

    @field_validator("languages", "preload", "detector_languages")
    @classmethod
    def _norm_langs(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_lang(v) for v in value if v.strip()))

    @field_validator("models")
    @classmethod
    def _norm_models(cls, value: dict[str, str]) -> dict[str, str]:
        return {normalize_lang(k): v.strip() for k, v in value.items() if v.strip()}

    def detected_languages(self) -> list[str]:
        """Every language the detector chooses from: ``languages`` + ``detector_languages``."""
        return list(dict.fromkeys([*self.languages, *self.detector_languages]))

    def with_detector_languages(self, codes: list[str]) -> EnrichConfig:
        """A copy whose detector also knows ``codes`` (e.g. a watch-list's term languages)."""
        extra = [normalize_lang(c) for c in codes if c.strip() and c.strip() not in ("any", "*")]
        merged = list(dict.fromkeys([*self.detector_languages, *extra]))
        return self.model_copy(update={"detector_languages": merged})

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> EnrichConfig:
        """Build from ``streams.settings.Settings`` (duck-typed: no import of the settings)."""
        data: dict[str, Any] = {
            "languages": list(settings.languages),
            "models": dict(settings.spacy_models),
            "max_chars": settings.max_article_chars,
            "batch_size": settings.batch_size,
            "max_vocab_strings": getattr(settings, "max_vocab_strings", 30_000),
        }
        if not getattr(settings, "detect_pack_languages", True):
            data["detector_languages"] = []
        data.update(overrides)
        return cls(**data)
