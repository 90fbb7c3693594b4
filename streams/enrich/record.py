"""From a processed spaCy ``Doc`` to the sentence, lemma and entity lists of the record.

Sentences never cross a paragraph boundary: spaCy's sentences are split at paragraph edges
(a title without a full stop would otherwise merge with the first body sentence) and
trimmed of surrounding whitespace. Entities get the index of the sentence holding their
start (-1 if none). Lemmas are listed only where the casefolded lemma differs from the
casefolded surface; the lemma itself is stored casefolded. Sentence and lemma lists are
validated in one ``TypeAdapter`` call each (a news article has hundreds of lemmas; one
model construction per lemma cost a third of this stage).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import TypeAdapter

from schemas.records import Entity, Lemma, Sentence

__all__ = ["entities_of", "lemmas_of", "sentences_of"]

_SENTENCES = TypeAdapter(list[Sentence])
_LEMMAS = TypeAdapter(list[Lemma])


def _joined_sents(doc: Any, text: str) -> list[tuple[int, int]]:
    """Sentence spans, rejoined where an ASCII ``!``/``?`` is directly followed by text.

    The sentencizer ends a sentence at every ``!``: ``said <!channel> now`` became
    ``said <!`` + ``channel> now`` and ``Yahoo!Japan`` two sentences; with no space after
    the mark it is not a sentence end.
    """
    spans: list[tuple[int, int]] = []
    for sent in doc.sents:
        start, end = sent.start_char, sent.end_char
        if spans and start == spans[-1][1] and start > 0 and text[start - 1] in "!?":
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def sentences_of(doc: Any, text: str, paragraphs: Sequence[tuple[int, int]]) -> list[Sentence]:
    """Sentence spans of ``doc`` cut at paragraph boundaries, with their paragraph index."""
    out: list[dict[str, int]] = []
    pi = 0
    n_paras = len(paragraphs)
    for start, end in _joined_sents(doc, text):
        while start < end:
            while pi < n_paras and paragraphs[pi][1] <= start:
                pi += 1
            if pi == n_paras:
                break
            p_start, p_end = paragraphs[pi]
            start = max(start, p_start)
            if start >= end:
                break
            stop = min(end, p_end)
            piece = text[start:stop]
            stripped = piece.strip()
            if stripped:
                lead = len(piece) - len(piece.lstrip())
                s = start + lead
                out.append({"start": s, "end": s + len(stripped), "paragraph": pi})
            start = stop
    return _SENTENCES.validate_python(out)


def lemmas_of(
    doc: Any,
    lookup: Callable[[int], str | None] | None,
    from_pipeline: bool,
    memo: dict[Any, str] | None = None,
) -> list[Lemma]:
    """Tokens whose lemma differs from their casefolded surface (from pipeline or lookup).

    ``memo`` caches the decision per surface (and pipeline lemma): ``""`` for "no lemma
    to list" (whitespace included), else the casefolded lemma. Pass the same dict for one
    language's articles. Only the tokens' ids are read for all tokens; offsets only for the
    tokens listed.
    """
    from spacy.attrs import IDX, LEMMA, LENGTH, ORTH

    if not from_pipeline and lookup is None:
        return []
    memo = {} if memo is None else memo
    vocab = doc.vocab
    keys: Any
    if from_pipeline:
        ids = doc.to_array([ORTH, LEMMA])
        keys = zip(ids[:, 0].tolist(), ids[:, 1].tolist(), strict=True)
    else:
        keys = doc.to_array(ORTH).tolist()
    picked: list[int] = []
    folds: list[str] = []
    for i, key in enumerate(keys):
        folded = memo.get(key)
        if folded is None:
            orth, extra = key if from_pipeline else (key, 0)
            folded = memo[key] = _decide(vocab, orth, extra, lookup, from_pipeline)
        if folded:
            picked.append(i)
            folds.append(folded)
    if not picked:
        return []
    spans = doc.to_array([IDX, LENGTH])[picked].tolist()
    return _LEMMAS.validate_python(
        [
            {"start": idx, "end": idx + length, "lemma": folded}
            for (idx, length), folded in zip(spans, folds, strict=True)
        ]
    )


def _decide(
    vocab: Any,
    orth: int,
    extra: int,
    lookup: Callable[[int], str | None] | None,
    from_pipeline: bool,
) -> str:
    """The casefolded lemma to list for a token (``extra``: its pipeline lemma), or ``""``."""
    lexeme = vocab[orth]
    if lexeme.is_space:
        return ""
    lemma: Any
    if from_pipeline and extra:
        if extra == orth:
            return ""
        lemma = vocab.strings[extra]
    else:  # lookup table; also for tokens the pipeline left without lemma (long-text tail)
        if lookup is None:
            return ""
        lemma = lookup(orth)
        if lemma is None and not from_pipeline and lexeme.lower != orth:
            lemma = lookup(lexeme.lower)
        if not lemma:
            return ""
        if not isinstance(lemma, str):
            lemma = lemma[0]
    folded = str(lemma).casefold()
    return folded if folded != vocab.strings[orth].casefold() else ""


def entities_of(doc: Any, sentences: Sequence[Sentence]) -> list[Entity]:
    """Entities of ``doc``; ``origin`` is ``"ruler"`` when the ruler set an entity id."""
    starts = [s.start for s in sentences]
    out: list[Entity] = []
    for ent in doc.ents:
        i = bisect_right(starts, ent.start_char) - 1
        sentence = i if i >= 0 and ent.start_char < sentences[i].end else -1
        out.append(
            Entity(
                start=ent.start_char,
                end=ent.end_char,
                text=ent.text,
                label=ent.label_,
                sentence=sentence,
                origin="ruler" if ent.ent_id_ else "model",
            )
        )
    return out
