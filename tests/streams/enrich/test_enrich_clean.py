"""Cleaning: normalisation, paragraphs, title, truncation, HTML extraction, boilerplate."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.enrich import BoilerplateFileError, clean_article, load_boilerplate
from streams.enrich.boilerplate import BoilerplateFilter
from streams.enrich.normalize import normalize_inline

BP = load_boilerplate(["de", "en", "fr", "nl", "es", "it", "pt", "pl", "ru", "zh"])


def _clean(body: str, title: str = "Titel", **kw: object) -> list[str]:
    result = clean_article(title, body, boilerplate=BP, max_chars=100_000, **kw)  # type: ignore[arg-type]
    return [result.text[s:e] for s, e in result.paragraphs]


def test_nfkc_and_invisible_characters_are_normalised() -> None:
    """Ligatures, full-width letters, NBSP, soft hyphens and zero-width spaces are normalised."""
    text = "Die ﬁrma\u00a0ＡＢＣ zahlt Spio\u00adnage\u200bkosten.\t Ende"
    assert _clean(text) == ["Titel", "Die firma ABC zahlt Spionagekosten. Ende"]
    assert normalize_inline("a\u2028\x07b\ufeff  c") == "a b c"


def test_blank_lines_separate_paragraphs_and_lines_reflow() -> None:
    """Blocks split by blank lines are paragraphs; wrapped lines inside a block are joined."""
    paras = _clean("Erste Zeile\nzweite Zeile.\n\n\n  Zweiter   Absatz.  \n")
    assert paras == ["Titel", "Erste Zeile zweite Zeile.", "Zweiter Absatz."]


def test_body_without_blank_lines_has_one_paragraph_per_line() -> None:
    """A body that never uses blank lines gets one paragraph per line."""
    assert _clean("Eins.\nZwei.\r\nDrei.") == ["Titel", "Eins.", "Zwei.", "Drei."]


def test_title_is_paragraph_zero_and_a_repeated_title_is_dropped() -> None:
    """The title opens the clean text once, even when the body repeats it."""
    result = clean_article("Der Titel", "der  titel\n\nText.", boilerplate=BP, max_chars=10_000)
    assert result.text == "Der Titel\n\nText."
    assert result.title_paragraph and result.paragraphs == [(0, 9), (11, 16)]


def test_empty_title_means_no_title_paragraph() -> None:
    """Without a title, paragraph 0 is the first body paragraph."""
    result = clean_article("  ", "Nur Text.", boilerplate=BP, max_chars=10_000)
    assert result.text == "Nur Text." and not result.title_paragraph


def test_truncation_cuts_at_a_boundary_and_records_the_original_length() -> None:
    """A text beyond max_chars is cut at a word boundary; truncated and original_chars say so."""
    body = "\n\n".join(f"Absatz {i} " + "wort " * 100 for i in range(100))
    result = clean_article("T", body, boilerplate=BP, max_chars=2_000)
    assert result.truncated and len(result.text) <= 2_000
    assert result.original_chars > 50_000
    assert not result.text.endswith(" ") and result.text.split()[-1] in {"wort", "Absatz"}
    assert result.paragraphs[-1][1] == len(result.text)


def test_html_main_text_is_extracted_with_paragraphs() -> None:
    """HTML goes through trafilatura: article paragraphs kept, navigation and footer gone."""
    html = (
        "<html><head><title>T</title></head><body><nav><a href='/'>Startseite</a>"
        "<a href='/p'>Politik</a></nav><article><h1>Belgien überwacht Alibaba</h1>"
        "<p>Der belgische Geheimdienst überwacht das Logistikzentrum in Lüttich.</p>"
        "<p>WERBUNG</p><p>Alibaba bestreitet jegliches Fehlverhalten und kooperiert.</p>"
        "</article><footer>Impressum | Kontakt | Datenschutz</footer></body></html>"
    )
    paras = _clean(html, title="Belgien überwacht Alibaba", content_type="html")
    assert paras == [
        "Belgien überwacht Alibaba",
        "Der belgische Geheimdienst überwacht das Logistikzentrum in Lüttich.",
        "Alibaba bestreitet jegliches Fehlverhalten und kooperiert.",
    ]


@pytest.mark.parametrize(
    "line",
    [
        "WERBUNG",
        "Anzeige",
        "— Advertisement —",
        "PUBLICITÉ",
        "Leave a Reply",
        "Kommentar schreiben",
        "source-121",
        "Lesen Sie auch: Alibaba baut Logistik aus",
        "READ MORE: Belgium's spy agency explained",
        "À lire aussi : la Chine et l'Europe",
        "We use cookies to improve your experience. Accept all?",
        "Melden Sie sich für unseren Newsletter an",
        "Share on Facebook",
        "Czytaj także: Alibaba w Belgii",
        "Читайте также: Алибаба в Бельгии",
        "相关阅读：阿里巴巴",
        "12 Kommentare",
    ],
)
def test_bundled_boilerplate_lines_are_removed(line: str) -> None:
    """Ad markers, widgets, source tags, prompts and read-also lines of the data files go."""
    assert _clean(f"Erster Satz.\n\n{line}\n\nLetzter Satz.") == [
        "Titel",
        "Erster Satz.",
        "Letzter Satz.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "Related parties declined to comment on the deal.",
        "Zum Thema Datenschutz äußerte sich die Behörde nicht.",
        "Anzeige gegen den Konzern wurde am Montag erstattet.",
        "Source code of the app was leaked in 2021.",
        "Publicité mensongère : l'entreprise a été condamnée.",
    ],
)
def test_article_sentences_resembling_boilerplate_are_kept(sentence: str) -> None:
    """Sentences that merely start like boilerplate stay in the article."""
    assert sentence in _clean(f"{sentence}\n\nWERBUNG")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12),
        min_size=31,
        max_size=45,
    )
)
def test_long_lines_are_never_removed_by_regex_patterns(words: list[str]) -> None:
    """A line of more words than the guard allows is never dropped, whatever it starts with
    (``banner:`` patterns, e.g. cookie banners, have a guard of 4 x 30 words)."""
    for prefix in ("lesen sie auch:", "read more:"):
        line = f"{prefix} {' '.join(words)}."
        assert not BP.is_boilerplate(line)
    assert not BP.is_boilerplate(f"we use cookies {' '.join(words * 4)}.")


def test_ops_can_extend_the_boilerplate_with_their_own_files(tmp_path: Path) -> None:
    """An extra folder's de.txt adds literals and regexes to the bundled ones."""
    (tmp_path / "de.txt").write_text("# ops\nMEHR VOM SPONSOR\nre: partnerinhalt\\s+\\d+\n")
    extended = load_boilerplate(["de"], [tmp_path])
    assert extended.is_boilerplate("Mehr vom Sponsor")
    assert extended.is_boilerplate("Partnerinhalt 7")
    assert extended.is_boilerplate("WERBUNG")
    assert not BP.is_boilerplate("Mehr vom Sponsor")


def test_invalid_regex_names_file_and_line(tmp_path: Path) -> None:
    """A bad regular expression in an ops file is reported as file:line."""
    bad = tmp_path / "en.txt"
    bad.write_text("Advert\n\nre: (unclosed\n")
    with pytest.raises(BoilerplateFileError) as info:
        load_boilerplate(["en"], [tmp_path])
    assert info.value.line == 3 and str(info.value).startswith(f"{bad}:3: invalid regular")


def test_missing_extra_folder_is_an_error(tmp_path: Path) -> None:
    """A configured boilerplate folder that does not exist is reported, not ignored."""
    with pytest.raises(BoilerplateFileError, match="does not exist"):
        load_boilerplate(["en"], [tmp_path / "nope"])


def test_filter_ignores_decoration_and_case() -> None:
    """Literal entries match whatever the case and decoration around them."""
    bp = BoilerplateFilter(["Anzeige"])
    assert bp.is_boilerplate("*** ANZEIGE ***") and bp.is_boilerplate("anzeige:")
    assert not bp.is_boilerplate("Anzeigenblatt")
