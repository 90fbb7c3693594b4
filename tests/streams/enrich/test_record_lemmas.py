"""Which tokens the record lists with a lemma, from lookup tables or the pipeline's lemmas."""

from __future__ import annotations

from typing import Any

import spacy

from streams.enrich.record import lemmas_of

TABLE = {"went": "go", "said": "say", "Mice": "mouse", "mice": "mouse", "data": "data"}


def _doc(text: str) -> Any:
    return spacy.blank("en").make_doc(text)


def _lookup(doc: Any) -> Any:
    strings = doc.vocab.strings
    return lambda orth: TABLE.get(strings[orth])


def _listed(doc: Any, lemmas: list[Any]) -> list[tuple[str, str]]:
    return [(doc.text[lm.start : lm.end], lm.lemma) for lm in lemmas]


def test_lookup_lemmas_with_lower_case_fallback_and_no_whitespace() -> None:
    """Lookup by surface, then by its lower case; equal lemmas and whitespace are skipped."""
    doc = _doc("She SAID  \n the Mice went\twith data")
    memo: dict[Any, str] = {}
    first = _listed(doc, lemmas_of(doc, _lookup(doc), False, memo))
    assert first == [("SAID", "say"), ("Mice", "mouse"), ("went", "go")]
    assert _listed(doc, lemmas_of(doc, _lookup(doc), False, memo)) == first  # from the memo


def test_pipeline_lemmas_listed_where_they_differ_and_lookup_fills_gaps() -> None:
    """A pipeline lemma is listed casefolded unless it equals the surface; a token the
    pipeline left without one gets the lookup lemma (no lower-case retry)."""
    doc = _doc("Mice ran and SAID went \n data")
    doc[0].lemma_ = "Mouse"  # differs: listed, casefolded
    doc[1].lemma_ = "run"
    doc[2].lemma_ = "and"  # same string as the surface: not listed
    doc[3].lemma_ = "said"  # same as the casefolded surface: not listed
    # doc[4] ("went") has no pipeline lemma: the lookup table decides
    doc[5].lemma_ = "space"  # whitespace is never listed
    doc[6].lemma_ = "datum"
    got = _listed(doc, lemmas_of(doc, _lookup(doc), True, {}))
    assert got == [("Mice", "mouse"), ("ran", "run"), ("went", "go"), ("data", "datum")]


def test_without_lookup_or_pipeline_lemmas_nothing_is_listed() -> None:
    """No table and no pipeline lemmas: an empty list."""
    doc = _doc("She said the mice went")
    assert lemmas_of(doc, None, False) == []
