"""Confusable letters: match entity aliases across homoglyph spellings (issue 13.5).

``Аlibaba`` with a Cyrillic ``А``, ``Αlibaba`` with a Greek ``Α``, ``Ηuawei`` with a Greek
``Η``: each looks like the Latin name and is a different string. Unicode TR39 answers with a
*skeleton*: map every character to the prototype it is confusable with, then compare. This
module ships a curated subset of the TR39 ``confusables.txt`` data — single Cyrillic, Greek,
Armenian and Latin-extension letters that render like one basic Latin letter — as a
one-to-one character table (so the skeleton of a text has its length and offsets: evidence
still quotes the original characters). Fullwidth and mathematical letters are already folded
by NFKC, zero-width and other invisible characters removed by ``text``.

Only entity aliases are matched on the skeleton (``compile``/``match``), and a skeleton-only
hit counts only when it looks like a spoof rather than a genuine word of another script
(``is_spoof``): letters of two scripts mixed in one word (``Аlibaba``), or a word entirely
in another script than the alias when that script is not native to the article — neither the
script of its language nor a sizeable share of its letters (an all-Cyrillic lookalike in an
English article). Genuine Russian, Ukrainian, Bulgarian or Greek text (``Аса``, ``Нора``,
``και``) does not match Latin aliases, even when its language is unknown or mis-detected.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = [
    "NATIVE_SHARE",
    "SCRIPT_LANGUAGES",
    "is_spoof",
    "native_scripts",
    "needs_skeleton",
    "script_of",
    "skeleton",
    "skeleton_chars",
]

# (confusable letters, the basic Latin letter each renders like), after TR39 confusables.txt
_PAIRS = [
    # Cyrillic
    ("Аа", "Aa"), ("В", "B"), ("Ее", "Ee"), ("Ѕѕ", "Ss"), ("Іі", "Ii"), ("Јј", "Jj"),
    ("Кк", "Kk"), ("М", "M"), ("Н", "H"), ("Оо", "Oo"), ("Рр", "Pp"), ("Сс", "Cc"),
    ("Т", "T"), ("Уу", "Yy"), ("Хх", "Xx"), ("Һһ", "Hh"), ("Ԁԁ", "Dd"), ("Ԛԛ", "Qq"),
    ("Ԝԝ", "Ww"), ("Ӏӏ", "Il"), ("Ьь", "bb"), ("Үү", "Yy"), ("Ԍ", "G"), ("Ѵѵ", "Vv"),
    ("ѡ", "w"), ("ԛ", "q"),
    # Greek
    ("Αα", "Aa"), ("Β", "B"), ("Ε", "E"), ("Ζ", "Z"), ("Ηη", "Hn"), ("Ιι", "Ii"),
    ("Κκ", "Kk"), ("Μ", "M"), ("Νν", "Nv"), ("Οο", "Oo"), ("Ρρ", "Pp"), ("Τ", "T"),
    ("Υυ", "Yu"), ("Χχ", "Xx"), ("Ϲϲ", "Cc"), ("ϳ", "j"), ("ϐ", "b"),
    # Armenian
    ("օ", "o"), ("ս", "u"), ("հ", "h"), ("ո", "n"), ("ց", "g"), ("Տ", "S"), ("Օ", "O"),
    # Latin extensions and IPA
    ("ı", "i"), ("ȷ", "j"), ("ɑ", "a"), ("ɡ", "g"), ("ɩ", "i"), ("ɪ", "i"), ("ʏ", "y"),
    ("ᴀ", "a"), ("ᴄ", "c"), ("ᴏ", "o"), ("ᴠ", "v"), ("ᴡ", "w"), ("ᴢ", "z"), ("ꜱ", "s"),
]  # fmt: skip

_TABLE: dict[int, str] = {}
for _source, _target in _PAIRS:
    assert len(_source) == len(_target)
    for _s, _t in zip(_source, _target, strict=True):
        _TABLE[ord(_s)] = _t

#: Languages whose own script would make an all-Cyrillic/Greek/Armenian word genuine.
SCRIPT_LANGUAGES = {
    "cyrillic": frozenset(
        "ru uk bg be sr mk kk ky tg mn ba tt cv ce os ab av kv uz cu".split()  # noqa: SIM905
    ),
    "greek": frozenset({"el"}),
    "armenian": frozenset({"hy"}),
}


def skeleton_chars() -> frozenset[str]:
    """Every character the skeleton maps (to test whether a text needs a skeleton view)."""
    return frozenset(chr(c) for c in _TABLE)


def skeleton(text: str) -> str:
    """``text`` with every confusable letter replaced by its Latin prototype (same length)."""
    return text.translate(_TABLE)


@lru_cache(maxsize=4096)
def _char_script(ch: str) -> str:
    name = unicodedata.name(ch, "")
    for script in ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN"):
        if name.startswith(script):
            return script.lower()
    return "other"


def script_of(text: str) -> frozenset[str]:
    """Scripts of the letters of ``text`` (latin, cyrillic, greek, armenian, other)."""
    return frozenset(_char_script(c) for c in text if c.isalpha())


_SCRIPT_RUNS = {
    "cyrillic": re.compile(r"[\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f]+"),
    "greek": re.compile(r"[\u0370-\u03ff\u1f00-\u1fff]+"),
    "armenian": re.compile(r"[\u0530-\u058f]+"),
}
_LETTERS = re.compile(r"[^\W\d_]+")
#: A script with at least this share of an article's letters is native to the article.
NATIVE_SHARE = 0.3
#: Characters sampled to estimate the scripts of an article.
_SAMPLE = 20_000


def _count(pattern: re.Pattern[str], text: str) -> int:
    return sum(map(len, pattern.findall(text)))


def native_scripts(text: str, language: str | None) -> frozenset[str]:
    """Scripts in which a whole word is taken as genuine in this article: the script of its
    language, and any script that makes up at least ``NATIVE_SHARE`` of its letters (so a
    Russian article whose language was mis-detected is still recognised)."""
    found = {s for s, langs in SCRIPT_LANGUAGES.items() if language in langs}
    sample = text[:_SAMPLE]
    letters = 0
    for script, pattern in _SCRIPT_RUNS.items():
        if script in found or pattern.search(sample) is None:
            continue
        letters = letters or _count(_LETTERS, sample) or 1
        if _count(pattern, sample) >= NATIVE_SHARE * letters:
            found.add(script)
    return frozenset(found)


def _class(chars: str) -> str:
    return "[" + re.escape("".join(sorted(set(chars)))) + "]"


_BY_SCRIPT: dict[str, str] = {}
for _code in _TABLE:
    _BY_SCRIPT.setdefault(_char_script(chr(_code)), "")
    _BY_SCRIPT[_char_script(chr(_code))] += chr(_code)
_FOREIGN = {script: re.compile(_class(chars)) for script, chars in _BY_SCRIPT.items()}
_NON_LATIN = frozenset(
    c for script, chars in _BY_SCRIPT.items() if script != "latin" for c in chars
)
_ASCII_LETTERS = re.compile(r"[A-Za-z]+")
_MARKS = re.compile(r"[\u0300-\u036f]*")


def _mixed_word(text: str) -> bool:
    """A basic Latin letter next to a non-Latin confusable (combining marks between)."""
    for m in _ASCII_LETTERS.finditer(text):
        after = _MARKS.match(text, m.end())
        if after is not None and after.end() < len(text) and text[after.end()] in _NON_LATIN:
            return True
        i = m.start() - 1
        while i >= 0 and "\u0300" <= text[i] <= "\u036f":
            i -= 1
        if i >= 0 and text[i] in _NON_LATIN:
            return True
    return False


def needs_skeleton(text: str, native: frozenset[str]) -> bool:
    """Whether a skeleton view of ``text`` can yield a hit that ``is_spoof`` would keep: a
    mixed-script word, or a confusable letter of a script not native to the article (a
    genuine Russian article without mixed words needs none: no cost)."""
    foreign = [rx for script, rx in _FOREIGN.items() if script not in native]
    return any(rx.search(text) for rx in foreign) or _mixed_word(text)


def is_spoof(surface: str, alias: str, native: frozenset[str]) -> bool:
    """Whether a skeleton-only hit ``surface`` of ``alias`` is a homoglyph spelling (count
    it) rather than a genuine word of a script ``native`` to the article (drop it)."""
    scripts = script_of(surface)
    if len(scripts) > 1:
        return True  # letters of two scripts in one name: Аlibaba
    if not scripts or scripts <= script_of(alias):
        return True  # the alias's own script (e.g. a Cyrillic alias): the usual rules apply
    return not scripts <= native
