"""Unicode and whitespace normalisation of article text (NFKC, invisible characters, spaces)."""

from __future__ import annotations

import unicodedata

__all__ = ["normalize_inline", "split_lines"]

#: Characters deleted outright: C0/C1 controls (line breaks are handled by ``split_lines``),
#: soft hyphen, zero-width space, word joiner, BOM. ZWJ/ZWNJ stay (they carry meaning in
#: Persian, Indic scripts and emoji).
_DELETE = {c: None for c in [*range(0x00, 0x20), *range(0x7F, 0xA0)] if chr(c) not in "\t"}
_DELETE.update({0x00AD: None, 0x200B: None, 0x2060: None, 0xFEFF: None, 0x180E: None})


def split_lines(text: str) -> list[str]:
    """NFKC-normalise ``text`` and split it into lines on every Unicode line break."""
    return unicodedata.normalize("NFKC", text).splitlines()


def normalize_inline(text: str) -> str:
    """One line of text: invisible characters removed, whitespace runs → one space, trimmed.

    The input is expected to be NFKC already (``split_lines``) but may contain tabs and any
    Unicode space; the result contains no line break.
    """
    return " ".join(text.translate(_DELETE).split())
