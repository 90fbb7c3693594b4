"""spaCy pipelines per language: lazy loading by name or path, fallback, watch-list ruler.

Resolution for a language ``L`` (once per process per ``PipelineStore``):

1. ``models[L]`` when it is an installed package or an existing pipeline directory;
2. else ``models["xx"]`` (a multi-language model such as ``xx_ent_wiki_sm``) when installed;
3. else the *fallback*: ``spacy.blank(L)`` + ``sentencizer`` + the watch-list EntityRuler,
   with lookup lemmas from spacy-lookups-data. Languages whose tokenizer needs extra
   packages fall back further: ``vi`` without pyvi, ``ja``/``th``/... to spaCy's Chinese
   character segmenter, anything else to ``spacy.blank("xx")``.

A configured model that is not installed is reported with ONE warning per process naming
the model and how to install it. Trained pipelines load with components the enrichment does
not need excluded (parser, textcat, entity linker...), ``senter`` enabled when present, and
a ``sentencizer`` added when nothing else sets sentence boundaries.

Lemmas come from the pipeline when one of its components assigns ``token.lemma``; else from
the spacy-lookups-data lookup table of the *article's* language (the same table spaCy's
lookup lemmatizer uses; POS-split tables such as Polish are merged, nouns first).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from streams.enrich.ruler import SharedPhrases, add_ruler_patterns, skip_empty_check
from streams.enrich.ruler_annotations import skip_empty_annotations
from streams.enrich.sentencizer import speed_up as speed_up_sentencizer

__all__ = ["LoadedPipeline", "PipelineStore", "freeze_heap", "lemma_lookup", "trim_heap"]

log = logging.getLogger(__name__)

RULER_NAME = "watchlist_ruler"
#: Components never needed for enrichment (excluded at load: not even in memory).
EXCLUDE = [
    "parser",
    "textcat",
    "textcat_multilabel",
    "entity_linker",
    "spancat",
    "spancat_singlelabel",
    "span_finder",
    "coref",
    "span_resolver",
    "experimental_coref",
]
_SENT_SETTERS = {"sentencizer", "senter", "parser"}
#: Languages without spaces between words: char segmentation beats whole-run tokens.
_CHAR_SEGMENTED = {"ja", "th", "lo", "km", "my", "bo"}
_POS_ORDER = ("noun", "propn", "verb", "adj", "adv", "aux", "pron", "num", "adp", "det", "part")

_WARNED: set[str] = set()
_WARNED_LOCK = threading.Lock()
_LEMMA_TABLES: dict[str, Callable[[int], str | None] | None] = {}
_LEMMA_LOCK = threading.Lock()


def _warn_once(key: str, message: str, *args: Any, level: int = logging.WARNING) -> None:
    with _WARNED_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    log.log(level, message, *args)


def freeze_heap() -> None:
    """Collect garbage, then move every live object out of the cyclic GC's generations.

    A loaded pipeline is hundreds of thousands of long-lived objects; without this each
    full collection (triggered by the many small records enrichment builds) rescans them.
    Objects frozen here are still freed by reference counting when released.
    """
    gc.collect()
    gc.freeze()


def trim_heap() -> bool:
    """Give freed heap pages back to the OS (glibc ``malloc_trim``); False where there is no
    glibc. ctypes releases the GIL for the call, so a thread can run it beside the loop."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def lemma_lookup(lang: str) -> Callable[[int], str | None] | None:
    """``orth hash → lemma`` getter from spacy-lookups-data for ``lang`` (None if no table)."""
    with _LEMMA_LOCK:
        if lang in _LEMMA_TABLES:
            return _LEMMA_TABLES[lang]
        from spacy.lookups import load_lookups

        getter: Callable[[int], str | None] | None = None
        try:
            lookups = load_lookups(lang, ["lemma_lookup"], strict=False)
            if lookups.has_table("lemma_lookup"):
                table = lookups.get_table("lemma_lookup")
                getter = partial(dict.get, table)  # plain dict get on orth hashes
            else:
                names = [f"lemma_lookup_{pos}" for pos in _POS_ORDER]
                split = load_lookups(lang, names, strict=False)
                merged: dict[int, str] = {}
                for name in reversed(names):  # nouns last so they win
                    if split.has_table(name):
                        merged.update(dict.items(split.get_table(name)))
                getter = merged.get if merged else None
        except (ValueError, OSError, ImportError) as exc:
            log.info("no lookup lemmas for %r: %s", lang, exc)
            getter = None
        _LEMMA_TABLES[lang] = getter
        return getter


@dataclass
class LoadedPipeline:
    """One loaded spaCy pipeline with what enrichment needs to know about it."""

    name: str
    lang: str
    nlp: Any
    fallback: bool
    has_ner: bool
    sets_lemmas: bool
    statistical: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    patterns_version: int = -1
    #: strings in the vocabulary once loaded and its ruler built (the growth is measured from it)
    base_strings: int = 0
    rebuilding: bool = False
    _tail_sentencizer: Any = None

    def process_long(self, text: str, head_chars: int) -> Any:
        """Doc of a long text: the full pipeline on the first ``head_chars`` (cut after a
        paragraph), tokenizer + sentencizer + ruler on the rest; offsets are unchanged.

        Call with ``lock`` held. Statistical models cost ~100x the rest per character, so
        this bounds the time one huge article holds its partition.
        """
        from spacy.pipeline import Sentencizer
        from spacy.tokens import Doc

        cut = text.rfind("\n\n", 0, head_chars)
        cut = cut + 2 if cut > 0 else text.rfind(" ", 0, head_chars) + 1
        if cut <= 0:
            cut = head_chars
        head = self.nlp(text[:cut])
        tail = self.nlp.make_doc(text[cut:])
        if self._tail_sentencizer is None:
            self._tail_sentencizer = Sentencizer()
            speed_up_sentencizer(self._tail_sentencizer)
        tail = self._tail_sentencizer(tail)
        if RULER_NAME in self.nlp.pipe_names:
            tail = self.nlp.get_pipe(RULER_NAME)(tail)
        doc = Doc.from_docs([head, tail], ensure_whitespace=False, exclude=["tensor"])  # type: ignore[call-arg]
        if doc.text != text:  # cannot happen with whitespace cuts; never risk wrong offsets
            return self.nlp(text)
        return doc


def _is_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.startswith((".", "~"))


def _available(spec: str) -> bool:
    import spacy.util

    if _is_path(spec):
        return (Path(spec).expanduser() / "config.cfg").is_file()
    return bool(spacy.util.is_package(spec))


def _finish(nlp: Any, name: str, lang: str, fallback: bool, max_chars: int) -> LoadedPipeline:
    if not any(n in _SENT_SETTERS for n in nlp.pipe_names):
        nlp.add_pipe("sentencizer", first=True)
    for _, proc in nlp.pipeline:
        speed_up_sentencizer(proc)  # same sentences, no Token object per token
    nlp.max_length = max(nlp.max_length, max_chars + 1_000)
    sets_lemmas = any("token.lemma" in nlp.get_pipe_meta(n).assigns for n in nlp.pipe_names)
    statistical = any(getattr(proc, "model", None) is not None for _, proc in nlp.pipeline)
    return LoadedPipeline(
        name=name,
        lang=lang,
        nlp=nlp,
        fallback=fallback,
        has_ner="ner" in nlp.pipe_names,
        sets_lemmas=sets_lemmas,
        statistical=statistical,
    )


def _load_trained(spec: str, max_chars: int) -> LoadedPipeline:
    import spacy

    target: str | Path = Path(spec).expanduser() if _is_path(spec) else spec
    nlp = spacy.load(target, exclude=EXCLUDE)
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    return _finish(nlp, spec, str(nlp.lang), False, max_chars)


def _blank(lang: str) -> tuple[Any, str]:
    import spacy

    try:
        return spacy.blank(lang), f"blank:{lang}"
    except ImportError as exc:
        if lang == "vi":
            cfg = {"nlp": {"tokenizer": {"use_pyvi": False}}}
            return spacy.blank("vi", config=cfg), "blank:vi"
        substitute = "zh" if lang in _CHAR_SEGMENTED else "xx"
        _warn_once(
            f"tok:{lang}",
            "spaCy's %r tokenizer needs an extra package (%s); tokenizing %r text with "
            "blank:%s instead",
            lang,
            str(exc).split(". ")[0],
            lang,
            substitute,
        )
        return spacy.blank(substitute), f"blank:{substitute}"
    except (ValueError, KeyError):  # unknown language code
        return spacy.blank("xx"), "blank:xx"


class PipelineStore:
    """Lazily loads and caches one pipeline per language; keeps the rulers up to date."""

    def __init__(
        self,
        models: dict[str, str],
        *,
        max_chars: int,
        ruler_attr: str = "ORTH",
        import_modules: Sequence[str] = (),
        max_vocab_strings: int = 2_000_000,
        freeze_gc: bool = True,
    ) -> None:
        self.freeze_gc = freeze_gc
        self.max_vocab_strings = max_vocab_strings
        self.models = dict(models)
        self.import_modules = tuple(import_modules)
        self.max_chars = max_chars
        self.ruler_attr = ruler_attr
        self._by_key: dict[str, LoadedPipeline] = {}
        self._key_of_lang: dict[str, str] = {}
        self._lock = threading.RLock()
        self._patterns: list[dict[str, Any]] = []
        self._patterns_version = 0
        self._shared_phrases = SharedPhrases()
        #: pipelines built so far (first loads and background rebuilds)
        self.loads = 0
        self._rebuilds: list[threading.Thread] = []

    # ---------------------------------------------------------------- patterns
    def set_patterns(self, patterns: list[dict[str, Any]]) -> None:
        """Swap the watch-list patterns; rulers are rebuilt lazily before their next use."""
        with self._lock:
            self._patterns = list(patterns)
            self._patterns_version += 1

    def sync_ruler(self, pipe: LoadedPipeline) -> None:
        """Rebuild ``pipe``'s EntityRuler if the patterns changed; call with ``pipe.lock`` held."""
        with self._lock:
            version, patterns = self._patterns_version, self._patterns
        if pipe.patterns_version == version:
            return
        nlp = pipe.nlp
        if RULER_NAME in nlp.pipe_names:
            nlp.remove_pipe(RULER_NAME)
        if patterns:
            where = {"after": "ner"} if pipe.has_ner else {"last": True}
            ruler = nlp.add_pipe(
                "entity_ruler",
                name=RULER_NAME,
                config={"phrase_matcher_attr": self.ruler_attr, "overwrite_ents": False},
                **where,
            )
            add_ruler_patterns(
                nlp,
                ruler,
                RULER_NAME,
                self.ruler_attr,
                patterns,
                shared=self._shared_phrases,
                version=version,
            )
            skip_empty_check(ruler)
            skip_empty_annotations(ruler)  # no match: doc.ents is not rewritten
        pipe.patterns_version = version
        pipe.base_strings = len(nlp.vocab.strings)

    # ---------------------------------------------------------------- pipelines
    def recycle_if_bloated(self, pipe: LoadedPipeline) -> bool:
        """Rebuild ``pipe`` in a background thread once its vocabulary grew by more than
        ``max_vocab_strings`` strings since it was loaded; True if a rebuild started.

        spaCy interns every new token string for the life of the pipeline, so a worker that
        reads news for weeks grows without bound; reloading is the documented remedy. The
        old pipeline keeps serving until the new one (ruler included) is swapped in, so
        enrichment never waits for a load.
        """
        size = len(pipe.nlp.vocab.strings)
        if pipe.rebuilding or size <= pipe.base_strings + self.max_vocab_strings:
            return False
        pipe.rebuilding = True
        log.info("rebuilding spaCy pipeline %s: %d strings interned", pipe.name, size)
        thread = threading.Thread(
            target=self._rebuild, args=(pipe,), name=f"spacy-rebuild-{pipe.name}", daemon=True
        )
        with self._lock:
            self._rebuilds = [t for t in self._rebuilds if t.is_alive()] + [thread]
        thread.start()
        return True

    def wait_rebuilds(self, timeout: float | None = None) -> None:
        """Wait for the background rebuilds started so far (tests, orderly shutdown)."""
        with self._lock:
            threads = list(self._rebuilds)
        for thread in threads:
            thread.join(timeout)

    def _rebuild(self, old: LoadedPipeline) -> None:
        with self._lock:
            key = next((k for k, loaded in self._by_key.items() if loaded is old), None)
        if key is None:
            return
        try:
            fresh = self._build(key)
            with fresh.lock:
                self.sync_ruler(fresh)
        except Exception:  # keep serving with the old pipeline; retry at the next batch
            log.exception("rebuilding spaCy pipeline %s failed", old.name)
            old.rebuilding = False
            return
        with self._lock:
            if self._by_key.get(key) is old:
                self._by_key[key] = fresh
        if self.freeze_gc:  # the old pipeline has reference cycles: let the collector see it
            gc.unfreeze()
            freeze_heap()
        trim_heap()

    def _build(self, key: str) -> LoadedPipeline:
        """Load the pipeline of a resolved ``key`` again (``model:<spec>`` or ``blank:<lang>``)."""
        kind, _, spec = key.partition(":")
        self.loads += 1
        if kind == "model":
            for module in self.import_modules:
                importlib.import_module(module)
            return _load_trained(spec, self.max_chars)
        nlp, name = _blank(spec)
        return _finish(nlp, name, nlp.lang, True, self.max_chars)

    def loaded(self) -> dict[str, str]:
        """language → pipeline name, for every language resolved so far."""
        with self._lock:
            return {lang: self._by_key[key].name for lang, key in self._key_of_lang.items()}

    def get(self, lang: str) -> LoadedPipeline:
        """The pipeline for ``lang``, loaded on first use; ``sync_ruler`` it under its lock."""
        with self._lock:
            key = self._key_of_lang.get(lang)
            if key is None:
                key = self._resolve(lang)
                self._key_of_lang[lang] = key
                if self.freeze_gc:
                    freeze_heap()
            return self._by_key[key]

    def _resolve(self, lang: str) -> str:
        missing: list[str] = []
        for candidate in (lang, "xx"):
            spec = self.models.get(candidate)
            if not spec:
                continue
            key = f"model:{spec}"
            if key in self._by_key:
                return key
            if not _available(spec):
                missing.append(spec)
                continue
            try:
                for module in self.import_modules:
                    importlib.import_module(module)
                self.loads += 1
                self._by_key[key] = _load_trained(spec, self.max_chars)
            except Exception as exc:  # a broken model must not kill the worker
                _warn_once(
                    f"broken:{spec}",
                    "spaCy pipeline %r could not be loaded (%s: %s); using a fallback",
                    spec,
                    type(exc).__name__,
                    exc,
                    level=logging.ERROR,
                )
                continue
            log.info("loaded spaCy pipeline %s for %r", spec, lang)
            return key
        key = f"blank:{lang}"
        if key not in self._by_key:
            self._by_key[key] = self._build(key)
        self._warn_missing(lang, missing, self._by_key[key].name)
        return key

    @staticmethod
    def _warn_missing(lang: str, missing: list[str], used: str) -> None:
        new = [spec for spec in missing if f"missing:{spec}" not in _WARNED]
        if not new:
            log.info("language %r uses the fallback pipeline %s", lang, used)
            return
        fixes = "; ".join(
            f"check the path {spec!r} (a spaCy pipeline directory with config.cfg)"
            if _is_path(spec)
            else f"`python -m spacy download {spec}` (or pip install its wheel)"
            for spec in new
        )
        _warn_once(
            "missing:" + "|".join(new),
            "spaCy model(s) %s not installed: %r articles use the fallback pipeline %s "
            "(tokenizer, sentencizer, lookup lemmas, watch-list EntityRuler; no statistical "
            "NER). To install: %s",
            ", ".join(repr(spec) for spec in new),
            lang,
            used,
            fixes,
        )
        with _WARNED_LOCK:
            _WARNED.update(f"missing:{spec}" for spec in new)
