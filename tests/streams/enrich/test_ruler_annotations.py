"""The watch-list ruler finds the same entities when it skips writing none."""

from __future__ import annotations

import pickle
from typing import Any

import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Span

from streams.enrich.ruler_annotations import skip_empty_annotations

PATTERNS = [
    {"label": "ORG", "pattern": "Alibaba", "id": "alibaba"},
    {"label": "ORG", "pattern": "Alibaba Group", "id": "alibaba"},
    {"label": "GPE", "pattern": "Liège", "id": "liege"},
]
WORDS = st.sampled_from(["Alibaba", "Group", "Liège", "said", "the", "Cainiao", ".", "\n"])


def _nlp(fast: bool) -> Any:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": False})
    ruler.add_patterns(PATTERNS)
    if fast:
        assert skip_empty_annotations(ruler)
    return nlp


SLOW, FAST = _nlp(False), _nlp(True)


def _ents(doc: Any) -> list[tuple[int, int, str, str]]:
    return [(e.start, e.end, e.label_, e.ent_id_) for e in doc.ents]


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS, max_size=20).map(" ".join), st.booleans())
def test_same_entities_as_spacys_ruler(text: str, preset: bool) -> None:
    """With or without an entity already on the Doc (as NER sets), the same entities result."""
    docs = []
    for nlp in (SLOW, FAST):
        doc = nlp.make_doc(text)
        if preset and len(doc) > 0:
            doc.ents = [Span(doc, 0, 1, label="PERSON")]
        for _, proc in nlp.pipeline:
            doc = proc(doc)
        docs.append(doc)
    assert _ents(docs[1]) == _ents(docs[0])


def test_article_without_watchlist_names_has_no_entities() -> None:
    """No match: no entities, as with spaCy's ruler; matches still become entities."""
    doc = FAST("The port authority said the cranes arrived early.")
    assert doc.ents == () and SLOW(doc.text).ents == ()
    assert _ents(FAST("Alibaba Group said so in Liège.")) == [
        (0, 2, "ORG", "alibaba"),
        (5, 6, "GPE", "liege"),
    ]


def test_only_spacys_ruler_is_changed_and_pipeline_pickles() -> None:
    """Another component is left alone; a pipeline with the change survives pickling."""
    assert not skip_empty_annotations(object())
    copy = pickle.loads(pickle.dumps(FAST))
    assert _ents(copy("Alibaba said.")) == [(0, 1, "ORG", "alibaba")]
