"""The term syntax of the watch-list and the word-boundary rules of each matching mode.

A term as written in the YAML:

    Spionage          default mode for its language (see below)
    =Agent            whole word only, even in a compounding language (not ``Agentur``)
    spy*              word starting with ``spy`` (``spying``, ``spyware``)
    *spionage         word ending with ``spionage`` (``Wirtschaftsspionage``)
    *spion*           anywhere inside a word
    regex:sp(y|ies)   a Python regular expression over the normalized text

Default mode, decided per hit by the term's language (``any`` terms and entity aliases take
the article's language):

- compounding languages (de, nl, sv, da, no): a term of at least ``MIN_COMPOUND_CHARS``
  letters also matches inside a word: as modifier (``Spionagebedenken``), head
  (``Wirtschaftsspionage``), before a hyphen elision (``Spionage- oder …``) and with an
  inflection ending (``Spione``); shorter terms match whole words only;
- other languages: whole words only (``ant`` never in ``Antwerp``);
- a term edge written in a script without spaces (CJK, Thai) needs no boundary.

Entity aliases are names: whole words, plus a possessive/genitive ``s`` (``Alibabas``).
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.watchlist.langs import ANY, COMPOUND_LANGUAGES, is_cjk_char
from streams.watchlist.text import is_word_char, normalize

__all__ = ["MIN_COMPOUND_CHARS", "MIN_WILDCARD_CHARS", "TermSpec", "parse_term"]

#: Shortest term (in letters) matched inside compounds; shorter ones match whole words only.
MIN_COMPOUND_CHARS = 5
#: Shortest text of a ``pre*`` / ``*suf`` / ``*in*`` term.
MIN_WILDCARD_CHARS = 3


@dataclass(frozen=True, slots=True)
class TermSpec:
    """A parsed term: the normalized literal to find and where it may sit in a word."""

    raw: str
    key: str
    lang: str
    left_free: bool = False
    right_free: bool = False
    whole_word: bool = False
    name: bool = False
    regex: str | None = None
    #: whether each edge of the literal is a letter of a space-separated script
    left_edge_word: bool = True
    right_edge_word: bool = True

    def accepts(self, view: str, start: int, end: int, article_lang: str | None) -> bool:
        """Whether the literal found at ``view[start:end]`` is a hit under this term's mode."""
        lang = self.lang if self.lang != ANY else article_lang
        compound = (
            not self.whole_word
            and not self.name
            and lang in COMPOUND_LANGUAGES
            and len(self.key) >= MIN_COMPOUND_CHARS
        )
        check_left = not (compound or self.left_free or not self.left_edge_word)
        if check_left and start > 0 and is_word_char(view[start - 1]):
            return False
        if compound or self.right_free or not self.right_edge_word:
            return True
        if end < len(view) and is_word_char(view[end]):
            if not self.name:
                return False
            # names: allow a genitive/plural 's' ("Alibabas"), nothing longer
            return view[end] == "s" and (end + 1 == len(view) or not is_word_char(view[end + 1]))
        return True


def parse_term(raw: str, lang: str, *, name: bool = False) -> TermSpec:
    """Parse one term of the YAML (already validated by ``schemas.watchlist``)."""
    text = raw.strip()
    if text.startswith("regex:"):
        return TermSpec(raw=raw, key="", lang=lang, regex=text[len("regex:") :])
    whole = text.startswith("=")
    if whole:
        text = text[1:]
    left_free = text.startswith("*")
    right_free = text.endswith("*")
    key = normalize(text.strip("*")).strip()
    return TermSpec(
        raw=raw,
        key=key,
        lang=lang,
        left_free=left_free,
        right_free=right_free,
        whole_word=whole,
        name=name,
        left_edge_word=bool(key) and is_word_char(key[0]) and not is_cjk_char(key[0]),
        right_edge_word=bool(key) and is_word_char(key[-1]) and not is_cjk_char(key[-1]),
    )
