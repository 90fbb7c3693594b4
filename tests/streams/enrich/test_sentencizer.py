"""The faster sentencizer sets exactly the sentence starts spaCy's own sets."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.pipeline import Sentencizer

from streams.enrich.sentencizer import speed_up
from streams.settings import SAMPLES_DIR

PIECES = st.sampled_from(
    [
        "word", "Alibaba", "Straße", "U.S.", "Nr.", "3.5", "!", "?", ".", "...", "…", "。",
        "！", "？", "؟", ",", ";", ":", "-", "—", "(", ")", '"', "“", "”", "'", "»", "«",
        "!channel", "Yahoo!Japan", "\n", "\n\n", " ", "  ", "\t", "e.g.", "Ltd.)", "?!",
    ]
)  # fmt: skip
TEXTS = st.lists(st.one_of(PIECES, PIECES, st.text(max_size=6)), max_size=40).map(
    lambda parts: " ".join(parts) if len(parts) % 2 else "".join(parts)
)


def _pair(lang: str) -> tuple[Any, Sentencizer, Sentencizer]:
    nlp = spacy.blank(lang)
    fast = Sentencizer()
    assert speed_up(fast)
    return nlp, Sentencizer(), fast


PIPES = {lang: _pair(lang) for lang in ("en", "de", "fr", "zh")}


def _starts(nlp: Any, sentencizer: Sentencizer, texts: list[str]) -> list[list[bool]]:
    docs = list(sentencizer.pipe(nlp.tokenizer.pipe(texts), batch_size=3))
    return [[bool(t.is_sent_start) for t in doc] for doc in docs]


@settings(max_examples=300, deadline=None)
@given(st.lists(TEXTS, min_size=1, max_size=5), st.sampled_from(sorted(PIPES)))
def test_same_sentence_starts_as_spacy(texts: list[str], lang: str) -> None:
    """On any text and in a batch, every token starts a sentence exactly when spaCy says so."""
    nlp, slow, fast = PIPES[lang]
    assert _starts(nlp, fast, texts) == _starts(nlp, slow, texts)
    one = nlp.tokenizer(texts[0])
    assert [bool(t.is_sent_start) for t in fast(one)] == _starts(nlp, slow, texts[:1])[0]


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES_DIR.glob("*.txt")))
def test_same_sentences_on_the_samples(name: str) -> None:
    """Our sample articles get the same sentences from both."""
    text = (SAMPLES_DIR / name).read_text(encoding="utf-8")
    nlp, slow, fast = PIPES["de" if "-de" in name else "fr" if "-fr" in name else "en"]
    got = [s.text for s in fast(nlp.tokenizer(text)).sents]
    assert got == [s.text for s in slow(nlp.tokenizer(text)).sents] and len(got) > 3


def test_only_spacys_sentencizer_is_changed() -> None:
    """Another component (or a subclass) keeps its own predict."""

    class Custom(Sentencizer):
        pass

    custom = Custom()
    assert not speed_up(custom) and type(custom) is Custom
    assert not speed_up(object())


def test_pipeline_with_the_faster_sentencizer_pickles() -> None:
    """A pipeline whose sentencizer was sped up survives pickling, still sped up."""
    nlp = spacy.blank("en")
    assert speed_up(nlp.add_pipe("sentencizer"))
    copy = pickle.loads(pickle.dumps(nlp))
    assert type(copy.get_pipe("sentencizer")).__name__ == "FastSentencizer"
    assert [s.text for s in copy("One two. Three four!").sents] == ["One two.", "Three four!"]


def test_changed_punctuation_set_is_honoured() -> None:
    """A sentencizer whose sentence-end characters change decides with the new set."""
    nlp = spacy.blank("en")
    fast = Sentencizer()
    speed_up(fast)
    text = "One; two three. Four; five"
    assert len(list(fast(nlp.tokenizer(text)).sents)) == 2
    fast.punct_chars = {";"}
    assert [s.text for s in fast(nlp.tokenizer(text)).sents] == [
        "One;",
        "two three. Four;",
        "five",
    ]
