"""spaCy's rule-based ``Sentencizer`` with the same decisions, read from token ids.

``Sentencizer.predict`` builds a ``Token`` object for every token of every document only
to read two things that depend on the token's string alone: is it one of the sentence-end
characters, and is it punctuation. :func:`speed_up` makes one sentencizer a
``FastSentencizer`` (a subclass, so pickling still works) whose ``predict``
that reads the tokens' ORTH ids in one array and decides each distinct string once (a
cache per sentencizer: a pipeline rebuilt for its vocabulary gets a new one). The loop is
spaCy's, line for line; ``set_annotations`` is spaCy's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["speed_up"]

#: What a token string is to the sentencizer's loop.
_OTHER, _PUNCT, _END = 0, 1, 2
#: Distinct strings decided per sentencizer before its cache starts over (bounded memory).
_CACHE_LIMIT = 500_000


_FAST_CLASS: type | None = None


def _fast_class() -> type:
    """``FastSentencizer``: spaCy's ``Sentencizer`` with the faster ``predict`` (made on
    first use, so that importing this module does not import spaCy)."""
    global _FAST_CLASS
    if _FAST_CLASS is None:
        from spacy.pipeline import Sentencizer

        class FastSentencizer(Sentencizer):  # type: ignore[misc]
            """A ``Sentencizer`` whose ``predict`` reads token ids (same decisions)."""

            def predict(self, docs: Iterable[Any]) -> list[list[bool]]:
                """The first token of each sentence, per document."""
                return _predict(self, docs)

        FastSentencizer.__module__ = __name__
        FastSentencizer.__qualname__ = "FastSentencizer"
        _FAST_CLASS = FastSentencizer
    return _FAST_CLASS


def __getattr__(name: str) -> Any:
    """``FastSentencizer`` on demand (pickle looks the class up by this name)."""
    if name == "FastSentencizer":
        return _fast_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def speed_up(sentencizer: Any) -> bool:
    """Make a spaCy ``Sentencizer`` a ``FastSentencizer``; False if it is not exactly one."""
    from spacy.pipeline import Sentencizer

    if type(sentencizer) is not Sentencizer:
        return False
    sentencizer.__class__ = _fast_class()
    return True


def _kind(doc: Any, orth: int, punct_chars: Any) -> int:
    """``_END`` for a sentence-end character, ``_PUNCT`` for other punctuation, else 0."""
    if doc.vocab.strings[orth] in punct_chars:
        return _END
    return _PUNCT if doc.vocab[orth].is_punct else _OTHER


def _predict(self: Any, docs: Iterable[Any]) -> list[list[bool]]:
    """``Sentencizer.predict``'s loop over token ids instead of ``Token`` objects."""
    from spacy.attrs import ORTH

    docs = list(docs)
    punct_chars = self.punct_chars
    state = getattr(self, "_newswatch_kinds", None)
    if state is None or state[0] is not punct_chars or len(state[1]) > _CACHE_LIMIT:
        state = (punct_chars, {})
        self._newswatch_kinds = state
    kinds: dict[int, int] = state[1]
    guesses: list[list[bool]] = []
    for doc in docs:
        n = len(doc)
        doc_guesses = [False] * n
        if n > 0:
            start = 0
            seen_period = False
            doc_guesses[0] = True
            for i, orth in enumerate(doc.to_array(ORTH).tolist()):
                kind = kinds.get(orth)
                if kind is None:
                    kind = kinds[orth] = _kind(doc, orth, punct_chars)
                if seen_period and kind == _OTHER:
                    doc_guesses[start] = True
                    start = i
                    seen_period = False
                elif kind == _END:
                    seen_period = True
            if start < n:
                doc_guesses[start] = True
        guesses.append(doc_guesses)
    return guesses
