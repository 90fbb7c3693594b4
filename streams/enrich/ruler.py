"""Fill a watch-list EntityRuler with phrase patterns cheaply (same matches as ``add_patterns``).

``EntityRuler.add_patterns`` runs the pipeline (tokenizer, sentencizer, …) over every
pattern text, keeps one ``Doc`` per pattern and interns every pattern token and every
match key as a lexeme of the pipeline's vocabulary — once per language pipeline: 0.8 s
and ~125 MB per language for 20,000 aliases. The ``PhraseMatcher`` needs none of it: it
stores each pattern as the sequence of its tokens' attribute hashes.

``add_phrase_patterns`` tokenizes the texts with a copy of the pipeline's own tokenizer
(same rules, a throw-away vocabulary), turns each into its ORTH or LOWER hashes and adds
those to a ``PhraseMatcher`` whose vocabulary only holds the match keys — one pattern at a
time in the given order, as ``add_patterns`` does, so the matcher's trie and therefore the
entities found are the same. Pipelines whose tokenizers cut every pattern alike share one
matcher (``SharedPhrases``). The ruler's ``phrase_patterns`` hold the hash tuples instead
of pattern Docs (``ruler.patterns`` and serialisation are not used by newswatch).

Used only where it provably gives the same tokens: spaCy's rule-based ``Tokenizer`` (not
the Chinese/Japanese/… segmenters) and no component before the ruler that could
retokenize; otherwise ``add_patterns`` does the work.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

__all__ = ["SharedPhrases", "add_phrase_patterns", "add_ruler_patterns", "skip_empty_check"]

#: Components that never change tokens (may run before the ruler without affecting it).
_KEEP_TOKENS = frozenset(
    {
        "sentencizer",
        "senter",
        "tok2vec",
        "transformer",
        "tagger",
        "morphologizer",
        "lemmatizer",
        "trainable_lemmatizer",
        "attribute_ruler",
        "ner",
        "parser",
    }
)


def _fast_path_ok(nlp: Any, ruler_name: str, attr: str) -> bool:
    from spacy.tokenizer import Tokenizer

    if attr not in ("ORTH", "LOWER") or type(nlp.tokenizer) is not Tokenizer:
        return False
    for name in nlp.pipe_names:
        if name == ruler_name:
            return True
        if nlp.get_pipe_meta(name).factory not in _KEEP_TOKENS:
            return False
    return True


class SharedPhrases:
    """Phrase matchers built for one version of the patterns, shared between pipelines.

    Two pipelines whose tokenizers cut every pattern into the same tokens (English, German
    and French do for most names) get the same matcher, key table and pattern record: the
    trie is built and kept once. A new ``version`` (new patterns) forgets the old ones.
    Matchers are only read after they are built, so pipelines in other threads may share.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: int | None = None
        self._built: dict[tuple[str, tuple[tuple[int, ...], ...]], tuple[Any, Any, Any]] = {}

    def get(self, version: int, key: tuple[str, tuple[tuple[int, ...], ...]]) -> Any:
        """The ``(matcher, ent_ids, phrase_patterns)`` built for ``key``, or None."""
        with self._lock:
            if self._version != version:
                self._version, self._built = version, {}
            return self._built.get(key)

    def put(self, version: int, key: tuple[str, tuple[tuple[int, ...], ...]], built: Any) -> Any:
        """Remember ``built`` (unless one was stored meanwhile); returns the one to use."""
        with self._lock:
            if self._version != version:
                return built
            return self._built.setdefault(key, built)


def add_ruler_patterns(
    nlp: Any,
    ruler: Any,
    ruler_name: str,
    attr: str,
    patterns: Sequence[dict[str, Any]],
    *,
    shared: SharedPhrases | None = None,
    version: int = 0,
) -> None:
    """Add validated patterns to ``ruler`` (the ``ruler_name`` pipe of ``nlp``)."""
    phrases = [p for p in patterns if isinstance(p["pattern"], str)]
    if not phrases or not _fast_path_ok(nlp, ruler_name, attr):
        ruler.add_patterns(list(patterns))
        return
    tokens = [p for p in patterns if not isinstance(p["pattern"], str)]
    if tokens:
        ruler.add_patterns(tokens)
    add_phrase_patterns(nlp, ruler, attr, phrases, shared=shared, version=version)


def _has_patterns() -> None:
    """The ruler's per-document check, once its patterns are known to be there: nothing."""


def skip_empty_check(ruler: Any) -> bool:
    """Stop ``ruler`` recounting its patterns on every document, if it has any; True if so.

    spaCy's ``EntityRuler.match`` calls ``len(self)`` (a sum over every label's pattern
    list: ~1,000 labels for a 1,000-rule watch-list) before each document, only to warn
    when there are no patterns. newswatch never adds patterns to a ruler in use (a change
    builds a new ruler), so a ruler with patterns keeps them and the count is skipped.
    """
    if len(ruler) == 0:
        return False
    ruler._require_patterns = _has_patterns
    return True


def _keywords(nlp: Any, attr: str, texts: list[str]) -> tuple[tuple[int, ...], ...] | None:
    """Per text, the ORTH (or LOWER) hashes of its tokens as ``nlp``'s tokenizer cuts it."""
    from spacy.attrs import LOWER
    from spacy.tokenizer import Tokenizer
    from spacy.vocab import Vocab

    scratch = Tokenizer(Vocab()).from_bytes(nlp.tokenizer.to_bytes(exclude=["vocab"]))
    if attr != "LOWER":
        return tuple(tuple(token.orth for token in doc) for doc in scratch.pipe(texts))
    lower = nlp.vocab.lex_attr_getters.get(LOWER)
    if lower is None:  # no LOWER getter: let spaCy decide what it means
        return None
    add = scratch.vocab.strings.add  # the hash the pipeline's lexeme gets (symbols: their ids)
    return tuple(tuple(add(lower(t.orth_)) for t in doc) for doc in scratch.pipe(texts))


def add_phrase_patterns(
    nlp: Any,
    ruler: Any,
    attr: str,
    phrases: list[dict[str, Any]],
    *,
    shared: SharedPhrases | None = None,
    version: int = 0,
) -> None:
    """Phrase patterns (``pattern`` a string) into ``ruler``'s phrase matcher, by hashes."""
    from spacy.matcher import PhraseMatcher
    from spacy.vocab import Vocab

    keywords = _keywords(nlp, attr, [p["pattern"] for p in phrases])
    if keywords is None or len(ruler.phrase_matcher) or ruler.phrase_patterns:
        ruler.add_patterns(phrases)
        return
    cache_key = (attr, keywords)
    built = shared.get(version, cache_key) if shared is not None else None
    if built is None:
        # keys live in a small vocabulary of their own, not in the pipeline's
        matcher: Any = PhraseMatcher(
            Vocab(), attr=attr, validate=getattr(ruler, "_validate", False)
        )
        strings = matcher.vocab.strings
        ent_ids, records = ruler._ent_ids, ruler.phrase_patterns
        for entry, keyword in zip(phrases, keywords, strict=True):
            label = entry["label"]
            ident = entry.get("id")
            if ident:
                key = ruler._create_label(label, ident)
                ent_ids[strings.add(key)] = (label, ident)
                label = key
            matcher.add(label, [keyword])
            # the hashes (shared with the matcher) stand in for the pattern Docs: the
            # ruler counts its patterns (and warns on every Doc when it has none)
            records[label].append(keyword)
        built = (matcher, ent_ids, records)
        if shared is not None:
            built = shared.put(version, cache_key, built)
    ruler.phrase_matcher, ruler._ent_ids, ruler.phrase_patterns = built
