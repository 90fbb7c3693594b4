"""Writing systems of terms and articles, for language gating by script.

A detected language is a guess; the writing system is a fact. The matcher applies the terms
of the detected language in full (compounds, inflection keys, lemmas) and the terms of every
other language *written in a script that occurs in the article* verbatim (whole words, or
the declared ``pre*`` prefix; terms of at least ``MIN_VERBATIM_CHARS`` characters), or in
full when the detection is uncertain (``language_confidence < UNCERTAIN_BELOW``). So a
term that appears verbatim is never lost to a wrong guess, and a Cyrillic term never fires
on a Latin-script article.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "MIN_VERBATIM_CHARS",
    "NO_SPACE_SCRIPTS",
    "UNCERTAIN_BELOW",
    "script_of",
    "text_scripts",
]

#: Detection confidence under which every language of the article's scripts applies in full.
#: Measured on eval/dev-corpus.jsonl (221 articles, 17 languages, lingua restricted to the
#: pack languages): right guesses had confidence >= 0.48 (5th percentile 0.73), the two
#: wrong guesses (short English headlines taken for German and Dutch) 0.22 and 0.38.
UNCERTAIN_BELOW = 0.5

#: Shortest term (in characters) that applies verbatim to an article confidently detected as
#: another language: false friends are short everyday words (German ``Gift`` in "a gift",
#: Dutch ``haven`` in "safe haven"); ``espionage`` or ``Sanktionen`` are not.
MIN_VERBATIM_CHARS = 6

_SCRIPTS: dict[str, str] = {
    "latin": r"A-Za-z\u00c0-\u024f\u1e00-\u1eff",
    "cyrillic": r"\u0400-\u04ff\u0500-\u052f",
    "greek": r"\u0370-\u03ff\u1f00-\u1fff",
    "armenian": r"\u0530-\u058f",
    "hebrew": r"\u0590-\u05ff",
    "arabic": r"\u0600-\u06ff\u0750-\u077f",
    "devanagari": r"\u0900-\u097f",
    "bengali": r"\u0980-\u09ff",
    "thai": r"\u0e00-\u0e7f",
    "georgian": r"\u10a0-\u10ff",
    "hangul": r"\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "kana": r"\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "han": r"\u2e80-\u2fdf\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff",
}
#: Scripts written without spaces between words: a verbatim hit needs no word boundary.
NO_SPACE_SCRIPTS = frozenset({"thai", "kana", "han"})

_CHAR = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPTS.items()}
# a script "occurs" in an article with a run of two letters (one stray letter does not count)
_RUN = {name: re.compile(f"[{chars}]{{2}}") for name, chars in _SCRIPTS.items()}


@lru_cache(maxsize=65_536)
def script_of(term: str) -> str | None:
    """The script of the first letter of ``term`` (``latin``, ``cyrillic``, ``han``…)."""
    for ch in term:
        if ch.isalpha():
            for name, rx in _CHAR.items():
                if rx.match(ch):
                    return name
            return "other"
    return None


def text_scripts(text: str, wanted: frozenset[str] | None = None) -> frozenset[str]:
    """The scripts that occur in ``text`` (restricted to ``wanted`` when given)."""
    names = _RUN if wanted is None else {n: _RUN[n] for n in wanted if n in _RUN}
    return frozenset(name for name, rx in names.items() if rx.search(text))
