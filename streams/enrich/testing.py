"""Build small *trained* spaCy pipelines offline, for tests and benchmarks.

No spaCy model can be downloaded here, yet the loading code for real models must be
exercised. ``train_tiny_pipeline`` trains spaCy's default efficiency config (``tok2vec`` +
``ner``, the architecture of the ``*_sm`` models) on a handful of built-in sentences for a
few iterations and saves it to a directory, which is then loaded by path through the same
code as an installed model (``EnrichConfig.models = {"de": str(path)}``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "CRASH_MARKER",
    "FAIL_MARKER",
    "TRAINING_SENTENCES",
    "annotate",
    "save_pipeline_with",
    "train_tiny_pipeline",
]

#: Text that makes the ``newswatch_test_fail`` component raise (a failing model).
FAIL_MARKER = "NEWSWATCH-TEST-FAIL"
#: Text that makes the ``newswatch_test_crash`` component kill its process (native crash).
CRASH_MARKER = "NEWSWATCH-TEST-CRASH"

_DE = [
    (
        "Der belgische Geheimdienst überwacht das Logistikzentrum von Alibaba in Lüttich.",
        [("Alibaba", "ORG"), ("Lüttich", "LOC")],
    ),
    ("Alibaba bestreitet jegliches Fehlverhalten.", [("Alibaba", "ORG")]),
    (
        "Alibaba hat die Notierung von Cainiao an der Hongkonger Börse beantragt.",
        [("Alibaba", "ORG"), ("Cainiao", "ORG")],
    ),
    (
        "Die Financial Times berichtet über Spionage in Belgien.",
        [("Financial Times", "ORG"), ("Belgien", "LOC")],
    ),
    ("Siemens eröffnet ein neues Werk in Berlin.", [("Siemens", "ORG"), ("Berlin", "LOC")]),
    ("Volkswagen verkauft weniger Autos in China.", [("Volkswagen", "ORG"), ("China", "LOC")]),
    ("Olaf Scholz reist nach Paris.", [("Olaf Scholz", "PER"), ("Paris", "LOC")]),
    (
        "Angela Merkel traf Vertreter von Alibaba in Hamburg.",
        [("Angela Merkel", "PER"), ("Alibaba", "ORG"), ("Hamburg", "LOC")],
    ),
    (
        "Die Anwesenheit von Alibaba ist für Belgien ein Punkt der Aufmerksamkeit.",
        [("Alibaba", "ORG"), ("Belgien", "LOC")],
    ),
    ("Der Staatssicherheitsdienst VSSE reagierte nicht auf Anfragen.", [("VSSE", "ORG")]),
    ("Das Wetter war gestern schön und die Kinder spielten draußen.", []),
    ("Die Preise steigen seit Monaten.", []),
]
_EN = [
    (
        "Belgian intelligence is monitoring Alibaba's logistics hub in Liege.",
        [("Alibaba", "ORG"), ("Liege", "LOC")],
    ),
    ("Alibaba denies any wrongdoing.", [("Alibaba", "ORG")]),
    (
        "Alibaba applied to list Cainiao in Hong Kong.",
        [("Alibaba", "ORG"), ("Cainiao", "ORG"), ("Hong Kong", "LOC")],
    ),
    (
        "The Financial Times reported on espionage in Belgium.",
        [("Financial Times", "ORG"), ("Belgium", "LOC")],
    ),
    ("Siemens opens a new plant in Berlin.", [("Siemens", "ORG"), ("Berlin", "LOC")]),
    ("Joe Biden travelled to Paris.", [("Joe Biden", "PER"), ("Paris", "LOC")]),
    (
        "Microsoft and Alibaba signed a deal in London.",
        [("Microsoft", "ORG"), ("Alibaba", "ORG"), ("London", "LOC")],
    ),
    ("The weather was nice and the children played outside.", []),
    ("Prices have been rising for months.", []),
]
_FR = [
    (
        "Les services belges surveillent le centre logistique d'Alibaba à Liège.",
        [("Alibaba", "ORG"), ("Liège", "LOC")],
    ),
    ("Alibaba dément toute faute.", [("Alibaba", "ORG")]),
    ("Emmanuel Macron s'est rendu à Berlin.", [("Emmanuel Macron", "PER"), ("Berlin", "LOC")]),
    ("Siemens ouvre une usine à Lyon.", [("Siemens", "ORG"), ("Lyon", "LOC")]),
    ("Il faisait beau et les enfants jouaient dehors.", []),
]

#: Built-in training sentences per language: ``(text, [(entity text, label), ...])``.
TRAINING_SENTENCES: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "de": _DE,
    "en": _EN,
    "fr": _FR,
}


def annotate(text: str, entities: Sequence[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """Character spans of every whole-word occurrence of each ``(entity text, label)``."""
    spans: list[tuple[int, int, str]] = []
    for surface, label in entities:
        for m in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", text):
            if not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), label))
    return sorted(spans)


def train_tiny_pipeline(
    lang: str,
    out_dir: Path | str,
    *,
    sentences: Sequence[tuple[str, Sequence[tuple[str, str]]]] | None = None,
    iterations: int = 25,
    seed: int = 0,
) -> Path:
    """Train tok2vec+NER (spaCy's efficiency config) for ``lang`` and save it to ``out_dir``.

    ``sentences`` defaults to ``TRAINING_SENTENCES[lang]`` (English ones for other
    languages). Deterministic for a given seed. Returns the pipeline directory.
    """
    import spacy
    from spacy.cli.init_config import init_config
    from spacy.training import Example
    from thinc.api import fix_random_seed

    data = list(sentences or TRAINING_SENTENCES.get(lang, _EN))
    fix_random_seed(seed)
    config = init_config(lang=lang, pipeline=["ner"], optimize="efficiency", gpu=False)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    examples = [
        Example.from_dict(nlp.make_doc(text), {"entities": annotate(text, ents)})
        for text, ents in data
    ]
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(iterations):
        rng.shuffle(examples)
        for start in range(0, len(examples), 8):
            batch = examples[start : start + 8]
            nlp.update(batch, drop=0.1, sgd=optimizer)
    nlp.meta["name"] = f"tiny_ner_{lang}"
    nlp.meta["version"] = "0.0.1"
    out = Path(out_dir)
    nlp.to_disk(out)
    return out


def _register_test_components() -> None:
    from spacy.language import Language

    if not Language.has_factory("newswatch_test_fail"):

        @Language.component("newswatch_test_fail")
        def _fail(doc):  # type: ignore[no-untyped-def]
            if FAIL_MARKER in doc.text:
                raise RuntimeError("test component failed on purpose")
            return doc

    if not Language.has_factory("newswatch_test_crash"):

        @Language.component("newswatch_test_crash")
        def _crash(doc):  # type: ignore[no-untyped-def]
            if CRASH_MARKER in doc.text:
                import os

                os._exit(70)
            return doc


def save_pipeline_with(lang: str, components: Sequence[str], out_dir: Path | str) -> Path:
    """Save ``spacy.blank(lang)`` with the given test components; load it by path.

    Components: ``newswatch_test_fail`` (raises on ``FAIL_MARKER``) and
    ``newswatch_test_crash`` (exits the process on ``CRASH_MARKER``). A process loading the
    pipeline must import this module first (``EnrichConfig.import_modules``).
    """
    import spacy

    nlp = spacy.blank(lang)
    for name in components:
        nlp.add_pipe(name)
    out = Path(out_dir)
    nlp.to_disk(out)
    return out


_register_test_components()
