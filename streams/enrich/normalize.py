"""Unicode and whitespace normalisation of article text (NFKC, invisible characters, spaces)."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_inline", "split_lines"]

#: Characters deleted outright: C0/C1 controls (line breaks are handled by ``split_lines``),
#: soft hyphen, zero-width space, word joiner, BOM. ZWJ/ZWNJ stay (they carry meaning in
#: Persian, Indic scripts and emoji).
_INVISIBLE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\u180e]")


def split_lines(text: str) -> list[str]:
    """NFKC-normalise ``text`` and split it into lines on every Unicode line break."""
    return unicodedata.normalize("NFKC", text).splitlines()


def normalize_inline(text: str) -> str:
    """One line of text: invisible characters removed, whitespace runs → one space, trimmed.

    The input is expected to be NFKC already (``split_lines``) but may contain tabs and any
    Unicode space; the result contains no line break.
    """
    return " ".join(_INVISIBLE.sub("", text).split())
