"""Boilerplate line removal driven by per-language data files that ops can extend.

Files: ``streams/enrich/data/boilerplate/common.txt`` and ``<lang>.txt`` for every configured
language, then the same names in each of ``EnrichConfig.boilerplate_dirs`` (added, never
replacing). Format, one entry per line (``#`` comments and blank lines ignored):

* ``literal`` — a whole line equal to this is boilerplate (``WERBUNG``, ``Leave a Reply``);
* ``re: REGEX`` — a whole line matching this regular expression is boilerplate;
* ``banner: REGEX`` — the same for long banners (cookie consent): tried on lines of up to
  ``BANNER_WORDS_FACTOR × max_words`` words, so start it with distinctive words;
* ``heading: REGEX`` — a whole line matching it is boilerplate *and* starts a teaser list
  ("Related articles", "Mehr zum Thema"): the headline-like lines after it (short, no
  sentence punctuation; at most ``TEASER_MAX_LINES``) are removed too.

Lines are compared by their *key*: NFKC, casefolded, whitespace collapsed, with decoration
(``- – — _ * • · | : ; . , ! ? # = ~``, brackets, quotes) trimmed from both ends. Regular
expressions are matched against the key with ``fullmatch`` and ``IGNORECASE`` and are only
tried on lines of at most ``max_words`` words, so a real sentence of an article is not
removed by an over-eager pattern. The patterns of every configured language apply to every
article (cleaning runs before language detection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

from streams.enrich.errors import BoilerplateFileError
from streams.enrich.normalize import normalize_inline

__all__ = [
    "BANNER_WORDS_FACTOR",
    "BUNDLED_DIR",
    "TEASER_MAX_LINES",
    "TEASER_MAX_WORDS",
    "BoilerplateFilter",
    "is_headline_like",
    "line_key",
    "load_boilerplate",
]

#: ``banner:`` patterns are tried on lines of up to this many times ``max_words`` words.
BANNER_WORDS_FACTOR = 4
#: A teaser list after a ``heading:`` line: at most this many lines of at most this many words.
TEASER_MAX_LINES = 12
TEASER_MAX_WORDS = 18
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "”", "»", "“", "。", "！", "？")

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "boilerplate"

_DECORATION = " \t-–—_*•·|:;.,!?#=~[](){}<>\"'„“”«»‹›‚‘’/\\+"


def line_key(line: str) -> str:
    """The comparison key of a line: casefolded, spaces collapsed, decoration trimmed."""
    return normalize_inline(line).casefold().strip(_DECORATION)


def is_headline_like(line: str) -> bool:
    """A short line without sentence punctuation at its end: a headline or teaser title."""
    stripped = line.strip()
    return (
        bool(stripped)
        and len(stripped.split()) <= TEASER_MAX_WORDS
        and not stripped.endswith(_SENTENCE_END)
    )


def _alternation(patterns: Sequence[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{r})" for r in patterns), re.IGNORECASE) if patterns else None


class BoilerplateFilter:
    """Decides whether one line of an article is boilerplate."""

    def __init__(
        self,
        literals: Iterable[str] = (),
        regexes: Sequence[str] = (),
        *,
        max_words: int = 30,
        sources: Sequence[Path] = (),
        banners: Sequence[str] = (),
        headings: Sequence[str] = (),
    ) -> None:
        self.literals = frozenset(line_key(lit) for lit in literals if line_key(lit))
        self.regex_count = len(regexes)
        self._regex = (
            re.compile("|".join(f"(?:{r})" for r in regexes), re.IGNORECASE) if regexes else None
        )
        self._banner = _alternation(banners)
        self._heading = _alternation(headings)
        self.max_words = max_words
        self.sources = tuple(sources)

    def is_boilerplate(self, line: str, *, normalized: bool = False) -> bool:
        """True if the (NFKC) line is an ad marker, widget, tag or prompt to be removed.

        ``normalized``: the line already went through ``normalize_inline`` (as in
        cleaning), which is idempotent, so the key skips it.
        """
        key = line.casefold().strip(_DECORATION) if normalized else line_key(line)
        if not key:
            return False
        if key in self.literals:
            return True
        spaces = key.count(" ")
        if spaces < self.max_words and (
            (self._regex is not None and self._regex.fullmatch(key) is not None)
            or (self._heading is not None and self._heading.fullmatch(key) is not None)
        ):
            return True
        return (
            self._banner is not None
            and spaces < self.max_words * BANNER_WORDS_FACTOR
            and self._banner.fullmatch(key) is not None
        )

    def starts_teaser_list(self, line: str, *, normalized: bool = False) -> bool:
        """True if ``line`` is a heading of related-article teasers (``heading:`` entries)."""
        key = line.casefold().strip(_DECORATION) if normalized else line_key(line)
        return bool(key) and self._heading is not None and self._heading.fullmatch(key) is not None


_KINDS = {"re:": "re", "banner:": "banner", "heading:": "heading"}


def _parse_file(path: Path, literals: list[str], lists: dict[str, list[str]]) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BoilerplateFileError(f"not UTF-8 ({exc.reason})", path=path, line=1) from None
    except OSError as exc:
        raise BoilerplateFileError(exc.strerror or str(exc), path=path, line=0) from None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        prefix = next((p for p in _KINDS if entry.startswith(p)), None)
        if prefix is not None:
            pattern = entry[len(prefix) :].strip()
            if not pattern:
                raise BoilerplateFileError("empty regular expression", path=path, line=lineno)
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                col = (exc.pos or 0) + len(prefix) + 1
                raise BoilerplateFileError(
                    f"invalid regular expression: {exc.msg} (col {col})",
                    path=path,
                    line=lineno,
                ) from None
            lists[_KINDS[prefix]].append(pattern)
        elif not line_key(entry):
            raise BoilerplateFileError(
                "entry is only punctuation after trimming", path=path, line=lineno
            )
        else:
            literals.append(entry)


@lru_cache(maxsize=16)
def _load_cached(
    languages: tuple[str, ...], dirs: tuple[Path, ...], max_words: int
) -> BoilerplateFilter:
    literals: list[str] = []
    lists: dict[str, list[str]] = {"re": [], "banner": [], "heading": []}
    sources: list[Path] = []
    for folder in dirs:
        for name in ("common", *languages):
            path = folder / f"{name}.txt"
            if path.is_file():
                _parse_file(path, literals, lists)
                sources.append(path)
    return BoilerplateFilter(
        literals,
        lists["re"],
        max_words=max_words,
        sources=sources,
        banners=lists["banner"],
        headings=lists["heading"],
    )


def load_boilerplate(
    languages: Iterable[str], extra_dirs: Iterable[Path] = (), *, max_words: int = 30
) -> BoilerplateFilter:
    """Load the bundled files plus ops' files for ``languages`` (cached per argument set).

    Raises ``BoilerplateFileError`` (file:line) for an unreadable file or an invalid regex;
    a missing extra folder is an error too, since it is a configuration mistake.
    """
    dirs = [BUNDLED_DIR]
    for folder in extra_dirs:
        folder = Path(folder)
        if not folder.is_dir():
            raise BoilerplateFileError("boilerplate folder does not exist", path=folder, line=0)
        dirs.append(folder.resolve())
    return _load_cached(tuple(sorted(set(languages))), tuple(dirs), max_words)
