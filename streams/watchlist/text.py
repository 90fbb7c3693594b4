"""Text normalization for matching, with a map back to the original character offsets.

The matcher scans a *normalized view* of the text:

- Unicode NFKC, then casefold (``Straße`` → ``strasse``, ``ＡＢＣ`` → ``abc``);
- typographic apostrophes become ``'`` and Unicode hyphens ``-``;
- every run of whitespace (spaces, tabs, line breaks, no-break spaces) becomes one space,
  so phrases match across line breaks;
- soft hyphens, zero-width and other invisible characters (combining grapheme joiner, bidi
  marks, variation selectors…) are removed (``Spio\\u00adnage`` → ``spionage``), other
  control characters become spaces.

``NormText.span(start, end)`` maps a half-open range of the view back to the original text.
Terms of the watch-list go through ``normalize`` so both sides agree. ``sentinelize`` wraps
each word of a normalized text in ``SENTINEL`` for the automaton scan (see ``terms``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache

from streams.watchlist.langs import is_cjk_char

__all__ = ["SENTINEL", "NormText", "is_word_char", "normalize", "normalize_text", "sentinelize"]

_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u2032": "'",
        "\u2010": "-",
        "\u2011": "-",
        # Romanian s/t with cedilla (legacy encodings) → with comma below (the standard)
        "\u015e": "\u0218",
        "\u015f": "\u0219",
        "\u0162": "\u021a",
        "\u0163": "\u021b",
    }
)
# soft hyphen, zero-width and other invisible (default-ignorable) characters: combining
# grapheme joiner, Arabic letter mark, bidi marks/embeddings/isolates, invisible operators,
# fillers, variation selectors, tags (a name with any of them inside still matches)
_REMOVED = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U0001bca0-\U0001bca3\U000e0000-\U000e0fff"
)
# A run of whitespace other than one plain space (or a control character); a run of
# removable characters; a run of non-ASCII characters. Every alternative starts with a
# specific character class, so the scan is fast on mostly-ASCII text.
_SPECIAL = re.compile(
    r"(?P<ws>\s{2,}|[^\S ]|[\x00-\x08\x0e-\x1f\x7f])|(?P<rm>["
    + _REMOVED
    + r"]+)|(?P<na>[^\x00-\x7f\s"
    + _REMOVED
    + r"]+)"
)

# A superset of the characters a ``_SPECIAL`` match can start at, apart from a space: any
# character outside printable ASCII. A single character class lets ``re`` skip to the next
# candidate in C; ``_SPECIAL`` itself, an alternation, tries every position in turn.
_HARD = re.compile(r"[^ -~]")


def _specials(text: str) -> Iterator[re.Match[str]]:
    """The matches of ``_SPECIAL.finditer(text)``, found 10-20x faster on mostly-ASCII text.

    A match starts at a character outside printable ASCII, or at a space followed by
    whitespace (two spaces, or a space just before such a character). Between the end of
    the previous match and the first such place nothing can match, so the search for the
    next match starts there.
    """
    n = len(text)
    pos, hard, dbl = 0, -1, -1
    while pos < n:
        if hard < pos:
            m = _HARD.search(text, pos)
            hard = m.start() if m else n
        if dbl < pos:
            d = text.find("  ", pos)
            dbl = d if d >= 0 else n
        start = min(hard - 1, dbl) if hard < n else dbl
        if start >= n:
            return
        found = _SPECIAL.search(text, max(start, pos))
        if found is None:
            return
        yield found
        pos = found.end()


#: Marks word edges in the scan view (never in normalized text: control characters are spaces).
SENTINEL = "\x01"
# runs of word characters of scripts written with spaces (CJK, Thai… excluded: substrings)
_WORD_RUN = re.compile(
    r"([^\W\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff"
    r"\U00020000-\U0003ffff]+)"
)


def sentinelize(normalized: str) -> str:
    """Wrap every word of a normalized text in ``SENTINEL``: ``"a-b c"`` → ``"␁a␁-␁b␁ ␁c␁"``."""
    # split() with a capturing group alternates gaps and words: joining with the sentinel
    # puts one on each side of every word (4x faster than sub() with a template)
    return SENTINEL.join(_WORD_RUN.split(normalized))


@lru_cache(maxsize=65_536)
def _fold(chunk: str) -> str:
    return unicodedata.normalize("NFKC", chunk).casefold().translate(_TRANSLATE)


@lru_cache(maxsize=65_536)
def _normalized_lemma(lemma: str) -> str:
    """A lemma as the lemma view holds it: normalized, whitespace runs as one space.

    Cached: an article has a hundred lemmas, mostly common words, and normalizing each
    through a full ``normalize_text`` was most of the lemma view's cost.
    """
    return " ".join(normalize(lemma).split())


def normalize(text: str) -> str:
    """Normalize a term or a text the way the matcher does (no offset map)."""
    return normalize_text(text).text


def is_word_char(ch: str) -> bool:
    """A letter, digit, ``_`` or combining mark of a space-separated script."""
    if ch.isalnum() or ch == "_":
        return not is_cjk_char(ch)
    return unicodedata.category(ch).startswith("M")


class NormText:
    """A normalized view of a text and the piecewise map back to the original offsets.

    The map is built on the first ``span`` call (most articles never map a hit back: the
    scan needs only ``text``); ``source`` is the ``(text, replacements)`` it is built from.
    """

    __slots__ = ("_lens", "_norm_starts", "_orig_lens", "_orig_starts", "_source", "text")

    def __init__(
        self,
        text: str,
        norm_starts: list[int],
        orig_starts: list[int],
        lens: list[int],
        orig_lens: list[int],
        source: tuple[str, list[tuple[int, int, str]] | None] | None = None,
    ) -> None:
        self.text = text
        self._norm_starts = norm_starts
        self._orig_starts = orig_starts
        self._lens = lens
        self._orig_lens = orig_lens
        self._source = source

    def _build_map(self) -> None:
        """Normalize the source again, this time recording the offset map."""
        if self._source is None:
            return
        b = _Builder()
        _fill(b, *self._source)
        if "".join(b.parts) != self.text:  # cannot happen: the same steps on the same input
            raise AssertionError("normalized view and its offset map disagree")
        self._norm_starts, self._orig_starts = b.norm_starts, b.orig_starts
        self._lens, self._orig_lens = b.lens, b.orig_lens
        self._source = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original ``[start, end)`` of the view's ``[start, end)`` (``end > start``)."""
        if self._source is not None:
            self._build_map()
        return self._start(start), self._end(end - 1)

    def _start(self, i: int) -> int:
        k = bisect_right(self._norm_starts, i) - 1
        if k < 0:
            return 0
        ns, os_, n, on = (
            self._norm_starts[k],
            self._orig_starts[k],
            self._lens[k],
            self._orig_lens[k],
        )
        return os_ + (i - ns) if n == on else os_

    def _end(self, i: int) -> int:
        k = bisect_right(self._norm_starts, i) - 1
        if k < 0:
            return 0
        ns, os_, n, on = (
            self._norm_starts[k],
            self._orig_starts[k],
            self._lens[k],
            self._orig_lens[k],
        )
        return os_ + (i - ns) + 1 if n == on else os_ + on


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.norm_starts: list[int] = []
        self.orig_starts: list[int] = []
        self.lens: list[int] = []
        self.orig_lens: list[int] = []
        self.pos = 0

    def emit(self, norm: str, orig_start: int, orig_len: int) -> None:
        n = len(norm)
        if n == 0:
            return
        if (
            n == orig_len
            and self.lens
            and self.lens[-1] == self.orig_lens[-1]
            and self.orig_starts[-1] + self.orig_lens[-1] == orig_start
        ):
            self.lens[-1] += n
            self.orig_lens[-1] += n
        else:
            self.norm_starts.append(self.pos)
            self.orig_starts.append(orig_start)
            self.lens.append(n)
            self.orig_lens.append(orig_len)
        self.parts.append(norm)
        self.pos += n

    def add_text(self, text: str, base: int) -> None:
        """Append the normalized form of ``text`` found at original offset ``base``."""
        if text.isascii() and text.isprintable() and "  " not in text:
            # nothing special (the common gap between two lemmas): just lower case
            if text:
                self.emit(text.lower(), base, len(text))
            return
        last = 0
        for m in _specials(text):
            s, e = m.span()
            kind = m.lastgroup
            if kind == "na" and s > last and unicodedata.combining(text[s]):
                s -= 1  # a combining mark composes with the ASCII letter before it (e + ́ = é)
            if s > last:
                self.emit(text[last:s].lower(), base + last, s - last)
            if kind == "ws":
                if not (self.parts and self.parts[-1].endswith(" ")):
                    self.emit(" ", base + s, e - s)
            elif kind == "na":
                chunk = text[s:e]
                folded = _fold(chunk)
                if len(folded) == len(chunk) and unicodedata.is_normalized("NFKC", chunk):
                    self.emit(folded, base + s, e - s)
                else:
                    self._slow(chunk, base + s)
            last = e
        if last < len(text):
            self.emit(text[last:].lower(), base + last, len(text) - last)

    def _slow(self, chunk: str, base: int) -> None:
        i, n = 0, len(chunk)
        while i < n:
            j = i + 1
            while j < n and unicodedata.combining(chunk[j]):
                j += 1
            folded = _fold(chunk[i:j])
            if folded.isspace():
                folded = " "
            self.emit(folded, base + i, j - i)
            i = j

    def add_replacement(self, norm: str, orig_start: int, orig_end: int) -> None:
        """Append a normalized, whitespace-collapsed string for ``[orig_start, orig_end)``."""
        if not norm:
            return
        self.emit(norm, orig_start, orig_end - orig_start)

    def build(self) -> NormText:
        return NormText(
            "".join(self.parts), self.norm_starts, self.orig_starts, self.lens, self.orig_lens
        )


class _TextBuilder(_Builder):
    """A ``_Builder`` that keeps the normalized parts only (no offset map)."""

    def emit(self, norm: str, orig_start: int, orig_len: int) -> None:
        if norm:
            self.parts.append(norm)


def _fill(b: _Builder, text: str, replacements: list[tuple[int, int, str]] | None) -> None:
    if not replacements:
        b.add_text(text, 0)
        return
    last = 0
    for start, end, lemma in replacements:
        if start < last or end <= start or end > len(text):
            continue
        if start > last:
            b.add_text(text[last:start], last)
        b.add_replacement(_normalized_lemma(lemma), start, end)
        last = end
    if last < len(text):
        b.add_text(text[last:], last)


def _fill_text(b: _TextBuilder, text: str, replacements: list[tuple[int, int, str]]) -> None:
    """``_fill`` for the text only: a plain gap (printable ASCII without a double space,
    the common case) and a lemma go straight into the parts, as ``add_text`` and
    ``add_replacement`` would put them."""
    parts = b.parts
    last = 0
    for start, end, lemma in replacements:
        if start < last or end <= start or end > len(text):
            continue
        if start > last:
            gap = text[last:start]
            if gap.isascii() and gap.isprintable() and "  " not in gap:
                parts.append(gap.lower())
            else:
                b.add_text(gap, last)
        norm = _normalized_lemma(lemma)
        if norm:
            parts.append(norm)
        last = end
    if last < len(text):
        b.add_text(text[last:], last)


def normalize_text(text: str, replacements: list[tuple[int, int, str]] | None = None) -> NormText:
    """Normalize ``text``; ``replacements`` (sorted, non-overlapping ``(start, end, lemma)``)
    substitute tokens by their lemmas (the lemma view of the text). The offset map is
    built when first needed."""
    b = _TextBuilder()
    if replacements:
        _fill_text(b, text, replacements)
    else:
        b.add_text(text, 0)
    return NormText("".join(b.parts), [], [], [], [], source=(text, replacements))


def normalize_mapped(text: str, replacements: list[tuple[int, int, str]] | None = None) -> NormText:
    """``normalize_text`` with the offset map built at once (the reference for tests)."""
    b = _Builder()
    _fill(b, text, replacements)
    return b.build()
