"""The term syntax of the watch-list and the word-boundary rules of each matching mode.

A term as written in the YAML:

    Spionage          default mode for its language (see below)
    =Agent            whole word only, even in a compounding language (not ``Agentur``)
    spy*              word starting with ``spy`` (``spying``, ``spyware``)
    *spionage         word ending with ``spionage`` (``Wirtschaftsspionage``)
    *spion*           anywhere inside a word
    regex:sp(y|ies)   a regular expression (Python syntax) over the normalized text, run
                      on RE2 in linear time (``regex``: no backreferences or lookaround)

Default mode, by the term's language (``any`` terms take the article's language):

- compounding languages (de, nl, sv, da, no): a term of at least ``MIN_COMPOUND_CHARS``
  letters also matches inside a word: as modifier (``Spionagebedenken``), head
  (``Wirtschaftsspionage``), before a hyphen elision (``Spionage- oder …``) and with an
  inflection ending (``Spione``); shorter terms match whole words only;
- other languages: whole words only (``ant`` never in ``Antwerp``);
- a term edge written in a script without spaces (CJK, Thai) needs no boundary.

Entity aliases are names: whole words, plus a possessive/genitive ``s`` (``Alibabas``); in
languages that inflect names with case endings (``INFLECTING_LANGUAGES``: Finnish
``Huaweihin``, Polish ``Alibabą``, Czech ``Alibaby``, Turkish, Hungarian…) also the name
followed by at most ``MAX_NAME_ENDING`` letters (aliases of at least 4 characters), and a
name ending in a vowel also with that vowel replaced (``Alibabą``, ``Alibaby``; 5+ characters).

Exclusions (``exclude:`` of a concept or entity) use the same syntax; a hit that lies inside
an excluded word is dropped (``Protestanten`` for ``Protest``, the verb ``betrug``).
The modes are compiled into automaton keys (``term_keys``): no boundary check at match time.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.watchlist.langs import ANY, COMPOUND_LANGUAGES
from streams.watchlist.text import SENTINEL, normalize, sentinelize

__all__ = [
    "ALWAYS",
    "INFLECTING_LANGUAGES",
    "IN_COMPOUNDING",
    "IN_INFLECTING",
    "IN_OTHERS",
    "MAX_NAME_ENDING",
    "MIN_COMPOUND_CHARS",
    "MIN_WILDCARD_CHARS",
    "SKELETON",
    "TermSpec",
    "parse_term",
    "term_keys",
]

#: Shortest term (in characters) matched inside compounds; shorter ones match whole words.
MIN_COMPOUND_CHARS = 5
#: Shortest text of a ``pre*`` / ``*suf`` / ``*in*`` term.
MIN_WILDCARD_CHARS = 3

#: When a key applies: always, only for articles in a compounding language, only otherwise;
#: ``SKELETON``: an entity alias key that applies only in the skeleton (confusables) view;
#: ``IN_INFLECTING``: a name key for articles in a language that inflects names.
ALWAYS, IN_COMPOUNDING, IN_OTHERS, SKELETON, IN_INFLECTING = 0, 1, 2, 3, 4

#: Languages that add case endings to (foreign) names without a hyphen or apostrophe.
INFLECTING_LANGUAGES = frozenset(
    {"fi", "et", "hu", "tr", "pl", "cs", "sk", "uk", "ru", "be", "hr", "sr", "bs", "sl", "lt"}
    | {"lv"}
)
#: Longest case ending accepted after a name in those languages (``Huawei|hin``).
MAX_NAME_ENDING = 4


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


def parse_term(raw: str, lang: str, *, name: bool = False) -> TermSpec:
    """Parse one term of the YAML (already validated by ``schemas.watchlist``)."""
    text = raw.strip()
    if text.startswith("regex:"):
        return TermSpec(raw=raw, key="", lang=lang, regex=text[len("regex:") :])
    whole = text.startswith("=")
    if whole:
        text = text[1:]
    return TermSpec(
        raw=raw,
        key=normalize(text.strip("*")).strip(),
        lang=lang,
        left_free=text.startswith("*"),
        right_free=text.endswith("*"),
        whole_word=whole,
        name=name,
    )


def _cut(key: str, left: bool, right: bool) -> str:
    if left and key.startswith(SENTINEL):
        key = key[1:]
    if right and key.endswith(SENTINEL):
        key = key[:-1]
    return key


def term_keys(spec: TermSpec) -> list[tuple[str, int]]:
    """Automaton keys of a term and when each applies (``ALWAYS``, ``IN_COMPOUNDING``…).

    Keys live in the *scan view* where every word is wrapped in ``SENTINEL`` characters
    (``text.sentinelize``): a key that keeps its sentinels only matches whole words, a key
    without them also matches inside words. So word boundaries cost nothing at match time.
    """
    if spec.regex is not None or not spec.key:
        return []
    core = sentinelize(spec.key)
    word = _cut(core, spec.left_free, spec.right_free)
    if spec.name:
        keys = [(word, ALWAYS)]
        if word.endswith(SENTINEL):  # genitive / plural s: "Alibabas"
            keys.append((word[:-1] + "s" + SENTINEL, ALWAYS))
            if len(spec.key) >= 4:  # case endings: "Huaweihin", "Huaweiem"
                keys.append((word[:-1], IN_INFLECTING))
            if len(spec.key) >= 5 and spec.key[-1] in "aeiouy":  # stem + ending: "Alibabą"
                keys.append((word[:-2], IN_INFLECTING))
        return keys
    compoundable = not spec.whole_word and len(spec.key) >= MIN_COMPOUND_CHARS
    inside = _cut(core, True, True)
    if spec.lang == ANY:
        if compoundable and inside != word:
            return [(word, IN_OTHERS), (inside, IN_COMPOUNDING)]
        return [(word, ALWAYS)]
    if spec.lang in COMPOUND_LANGUAGES and compoundable:
        return [(inside, ALWAYS)]
    return [(word, ALWAYS)]
