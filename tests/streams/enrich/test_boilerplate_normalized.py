"""Cleaning asks the boilerplate filter about lines it already normalized: same answers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.enrich import load_boilerplate
from streams.enrich.normalize import normalize_inline, split_lines

BP = load_boilerplate(["de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh"])

PIECES = st.sampled_from(
    [
        "Anzeige", "ANZEIGE", "*** ", "Werbung", "Read more", "Lesen Sie auch:", "Advertisement",
        "Share this article", "Mehr zum Thema", "\u00ad", "\u200b", "\ufeff", "\x07", "\t",
        "\u00a0", "  ", " ", "ﬁ", "Ｗerbung", "—", "•", ":", "Die Firma zahlt.", "x",
    ]
)  # fmt: skip
LINES = st.one_of(st.lists(PIECES, max_size=8).map("".join), st.text(max_size=30))


@settings(max_examples=400, deadline=None)
@given(LINES)
def test_normalized_line_gets_the_same_answers(raw: str) -> None:
    """normalize_inline is idempotent, so skipping it for a normalized line changes nothing."""
    for part in split_lines(raw) or [""]:
        line = normalize_inline(part)
        assert normalize_inline(line) == line
        assert BP.is_boilerplate(line, normalized=True) == BP.is_boilerplate(line)
        assert BP.starts_teaser_list(line, normalized=True) == BP.starts_teaser_list(line)


def test_known_boilerplate_lines_are_still_found() -> None:
    """Lines the bundled lists remove are found with and without the shortcut."""
    for line in ("*** ANZEIGE ***", "Anzeige:", "Advertisement"):
        normalized = normalize_inline(line)
        assert BP.is_boilerplate(normalized, normalized=True) and BP.is_boilerplate(normalized)
