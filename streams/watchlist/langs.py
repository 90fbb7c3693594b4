"""Language codes and the per-language matching families.

Codes are ISO 639-1 (two letters). ``any`` (alias ``*``) marks terms that apply to articles
in every language. Article languages are reduced to their primary subtag (``de-AT`` → ``de``);
an unknown article language (``""``, ``und``, ``xx``) lets terms of every language apply.
"""

from __future__ import annotations

from schemas.watchlist import ISO_639_1

__all__ = [
    "ANY",
    "CJK_LANGUAGES",
    "COMPOUND_LANGUAGES",
    "ISO_639_1",
    "article_language",
    "canonical_language",
    "is_cjk_char",
    "term_language",
]

ANY = "any"

#: Languages that write compounds as one word: a term also matches inside a compound.
COMPOUND_LANGUAGES = frozenset({"de", "nl", "sv", "da", "no", "nb", "nn"})

#: Languages written without spaces between words: terms match as substrings.
CJK_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "lo", "km", "my"})

_UNKNOWN = frozenset({"", "und", "xx", "mul", "zxx", "unknown"})

#: Codes that name the same language for matching (detectors say ``nb``, packs write ``no``).
_SAME = {"nb": "no", "nn": "no"}


def canonical_language(code: str) -> str:
    """One code per language for matching: ``nb``/``nn`` → ``no``; others unchanged."""
    return _SAME.get(code, code)


def term_language(code: str) -> str | None:
    """Normalize a watch-list language key; ``None`` when it is not a known code."""
    code = code.strip().lower()
    if code in (ANY, "*"):
        return ANY
    return code if code in ISO_639_1 else None


def article_language(code: str | None) -> str | None:
    """Primary subtag of an article's language, or ``None`` when unknown."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    if primary in _UNKNOWN or primary not in ISO_639_1:
        return None
    return canonical_language(primary)


def is_cjk_char(ch: str) -> bool:
    """True for characters of scripts written without spaces (Han, kana, Hangul, Thai…)."""
    cp = ord(ch)
    return (
        0x2E80 <= cp <= 0x9FFF  # CJK radicals, kana, Han
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0xF900 <= cp <= 0xFAFF  # CJK compatibility ideographs
        or 0x20000 <= cp <= 0x3FFFF  # Han extensions
        or 0x0E00 <= cp <= 0x0EFF  # Thai, Lao
        or 0x1780 <= cp <= 0x17FF  # Khmer
        or 0x1000 <= cp <= 0x109F  # Myanmar
    )
