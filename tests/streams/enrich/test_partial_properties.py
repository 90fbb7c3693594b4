"""Property tests: the fast partial-text checks decide exactly as the straightforward ones."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.enrich import partial
from streams.enrich.partial import PAYWALL_MARKERS

SETTINGS = settings(max_examples=400, deadline=None)

_OLD_ELLIPSIS = re.compile(r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\])\s*$")
_OLD_SPACE = re.compile(r"\s+")


def _old_marker(text: str, language: str | None) -> str | None:
    """The marker check as first written: collapse the whole text, then look."""
    folded = _OLD_SPACE.sub(" ", text.casefold().replace("’", "'"))
    languages = [language, "en"] if language and language != "en" else ["en"]
    for lang in languages:
        for marker in PAYWALL_MARKERS.get(lang or "", ()):
            if marker in folded:
                return marker
    return None


def _old_last_sentence_open(text: str) -> bool:
    """The open-sentence check as first written: split the whole text."""
    tail = text.rstrip()
    if not tail or tail[-1] in partial._CLOSING:
        return False
    last = re.split(r"[.!?。！？]\s+|\n", tail)[-1]
    return len(last.split()) >= 8


WHITESPACE = st.sampled_from([" ", "  ", "\n", "\t", "\xa0", "\u2009", " \n ", "\r\n", "\x1c"])
PUNCT = st.sampled_from([".", "...", "…", "[", "]", "[…]", "[ ... ]", "!", "?", "。", "’", "'"])
WORDS = st.sampled_from(["the", "Der", "ÉTÉ", "Straße", "abonné", "x", "ſ", "İ", "ß", "ﬁ"])


@st.composite
def _marker_texts(draw: st.DrawFn) -> str:
    """Text made of marker pieces with changed case and whitespace, words and punctuation."""
    markers = [m for ms in PAYWALL_MARKERS.values() for m in ms]
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            marker = draw(st.sampled_from(markers))
            words = marker.split(" ")
            cut = len(words) if draw(st.booleans()) else draw(st.integers(1, len(words)))
            piece = words[:cut] if draw(st.booleans()) else words[-cut:]
            seps = [draw(WHITESPACE) for _ in piece[1:]]
            text = piece[0] + "".join(s + w for s, w in zip(seps, piece[1:], strict=True))
            case = draw(st.sampled_from(["keep", "upper", "long s"]))
            if case == "upper":
                text = text.upper()
            elif case == "long s":  # casefolds to "s", lower() keeps it
                text = text.replace("s", "ſ")
            parts.append(text.replace("'", draw(st.sampled_from(["'", "’"]))))
        elif kind == 1:
            parts.append(draw(WORDS))
        elif kind == 2:
            parts.append(draw(PUNCT))
        else:
            parts.append(draw(st.text(max_size=8)))
        parts.append(draw(st.sampled_from(["", " ", "\n"])) if draw(st.booleans()) else "")
    return "".join(parts)


ENDINGS = st.one_of(
    st.lists(
        st.sampled_from(["[", "]", "…", "...", "..", ".", " ", "\n", "x", "\t"]), max_size=8
    ).map("".join),
    st.sampled_from(
        ["[…]", "[ ... ]", "[\n…\t]", "[...]", "[....]", "[..]", "...]", "[ …", "[.…]"]
    ),
)

SENTENCE = st.lists(st.one_of(WORDS, WORDS, WHITESPACE), min_size=5, max_size=11).map(" ".join)
SENTENCES = st.lists(
    st.tuples(SENTENCE, st.sampled_from([". ", "! ", ".\n", "\n", "? ", "。", ".", " \n "])),
    max_size=4,
).map(lambda pairs: "".join(a + b for a, b in pairs))

TEXTS = st.one_of(
    st.tuples(SENTENCES, SENTENCE, ENDINGS).map("".join),
    _marker_texts(),
    st.tuples(st.text(max_size=20), ENDINGS).map("".join),
    st.text(max_size=60),
    st.lists(st.one_of(WORDS, PUNCT, WHITESPACE), max_size=30).map("".join),
)
LANGUAGES = [None, "", "en", "xx", *sorted(PAYWALL_MARKERS)]


@SETTINGS
@given(TEXTS)
def test_marker_check_equals_collapsing_the_whole_text(text: str) -> None:
    """Looking for a marker only where all its words occur finds the same marker as before."""
    for language in LANGUAGES:
        assert partial._marker(text, language) == _old_marker(text, language)


@SETTINGS
@given(TEXTS)
def test_ellipsis_check_equals_the_anchored_regex(text: str) -> None:
    """Reading the end of the text finds an ellipsis exactly where the ``\\s*$`` regex does."""
    assert partial._ends_with_ellipsis(text) == bool(_OLD_ELLIPSIS.search(text))


@SETTINGS
@given(TEXTS)
def test_open_sentence_check_equals_splitting_the_whole_text(text: str) -> None:
    """Splitting only the last line decides an open last sentence as splitting all text."""
    assert partial._last_sentence_open(text) == _old_last_sentence_open(text)


def test_every_marker_is_found_with_changed_case_and_whitespace() -> None:
    """Each marker, upper-cased, with line breaks and tabs for spaces, is still found."""
    for language, markers in PAYWALL_MARKERS.items():
        for marker in markers:
            text = "Body text.\n" + marker.upper().replace(" ", "\n\t ") + "\nMore."
            assert partial._marker(text, language) == _old_marker(text, language) == marker
