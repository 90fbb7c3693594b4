"""``newswatch bench match``: matcher throughput vs a naive regex loop and spaCy's PhraseMatcher.

For each rule count N the bench builds one watch-list: the bundled example rules and packs,
plus synthetic rules (an entity with two aliases and a concept with four terms, ``all``
within a paragraph). Articles follow Zipf's law over a 5,000-word vocabulary; 2% of the
synthetic terms are drawn from its rarer 4,500 words (so rules do hit, more as N grows),
the rest from words that never occur. The article corpus is the bundled samples plus
synthetic multi-paragraph articles (~400 words). The same articles go through:

- ``newswatch``: ``match_article`` (normalization, one automaton scan, rule evaluation with
  paragraph scope and evidence); enrichment (segmentation) is done beforehand;
- ``naive_regex``: per article, one compiled ``\\b(?:t1|t2|…)\\b`` regex per rule, then a
  per-condition check of what it found (article scope);
- ``phrasematcher``: spaCy ``PhraseMatcher(attr="LOWER")`` over the same terms (tokenizing
  included; ``phrasematcher_match_only`` on pre-tokenized docs), then the same rule check.

``user`` (on by default): ``newswatch match`` as users and replay run it, enrichment
included, timed from the outside at the lowest and highest rule count, plus the
event-loop lag of a hot reload (``match_user``).

Each engine cycles through the corpus in three rounds of at least ``seconds / 3`` (and at
least 20 articles) each; the result is the best round's articles per CPU second of this
process (all engines are single-threaded; CPU time keeps other processes on a shared
machine out of the figures). Output: one JSON document on stdout.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from schemas.records import EnrichedArticle
from schemas.watchlist import Watchlist
from streams.watchlist.compile import CompiledWatchlist, compile_watchlist
from streams.watchlist.load import PACKS_DIR, load_watchlist
from streams.watchlist.match import build_enriched, match_article

__all__ = ["run_bench_match", "synthetic_articles", "synthetic_watchlist"]

_STREAMS = Path(__file__).resolve().parents[2]
_EXAMPLE = _STREAMS / "watchlist" / "examples" / "watchlist.yaml"
_SAMPLES = [
    _STREAMS / "samples",  # settings.SAMPLES_DIR
    _STREAMS.parent / "samples",
]
_SYLLABLES = [
    "ka", "lo", "mi", "ren", "ta", "vo", "shi", "ber", "un", "tor", "al", "gen", "ris",
    "po", "dan", "el", "fu", "gra", "hel", "ix", "jo", "kan", "lum", "mor", "nes", "ost",
]  # fmt: skip


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables))


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: dict[str, None] = {}
    while len(words) < size:
        words[_word(rng, rng.choice((2, 3, 3, 4)))] = None
    return list(words)


def synthetic_articles(count: int, *, seed: int = 7) -> list[tuple[str, str, str, str]]:
    """``(id, title, text, language)`` tuples: the bundled samples + generated articles."""
    rng = random.Random(seed)
    vocab = _vocabulary(random.Random(seed), 5_000)
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]  # Zipf: word frequency ~ 1/rank
    out: list[tuple[str, str, str, str]] = []
    for folder in _SAMPLES:
        if folder.is_dir():
            for path in sorted(folder.glob("*.txt")):
                lines = path.read_text(encoding="utf-8").splitlines()
                first = next((i for i, line in enumerate(lines) if line.strip()), 0)
                lang = path.stem.rsplit("-", 1)[-1]
                out.append((path.stem, lines[first].strip(), "\n".join(lines[first + 1 :]), lang))
            break
    while len(out) < count:
        paragraphs = []
        for _ in range(rng.randint(4, 8)):
            sentences = []
            for _ in range(rng.randint(2, 4)):
                n = rng.randint(8, 20)
                words = rng.choices(vocab, weights, k=n)
                sentences.append(" ".join(words).capitalize() + ".")
            paragraphs.append(" ".join(sentences))
        title = " ".join(rng.choice(vocab) for _ in range(6)).capitalize()
        out.append((f"synthetic-{len(out)}", title, "\n\n".join(paragraphs), "en"))
    return out[:count]


def synthetic_watchlist(rules: int, *, seed: int = 11) -> Watchlist:
    """The example watch-list (with its packs) plus synthetic rules, ``rules`` in total."""
    base = load_watchlist(_EXAMPLE).effective()
    packs = [load_watchlist(p).effective() for p in sorted(PACKS_DIR.glob("*.yaml"))]
    concepts: dict[str, Any] = {k: v.model_dump() for k, v in base.concepts.items()}
    for pack in packs:
        concepts.update({k: v.model_dump() for k, v in pack.concepts.items()})
    entities: dict[str, Any] = {k: v.model_dump() for k, v in base.entities.items()}
    rule_list: list[dict[str, Any]] = [r.model_dump() for r in base.rules]
    # watch-list terms are not function words: draw from the rarer 90% of the article
    # vocabulary (2% of terms) or from words that never occur in the articles
    article_vocab = _vocabulary(random.Random(7), 5_000)[500:]
    rng = random.Random(seed)
    own_vocab = _vocabulary(rng, 60_000)
    i = 0
    while len(rule_list) < rules:
        pool = article_vocab if rng.random() < 0.02 else own_vocab
        entities[f"org-{i}"] = {"aliases": [f"{_word(rng, 3).title()} Holdings", rng.choice(pool)]}
        concepts[f"topic-{i}"] = {"terms": {"en": [rng.choice(pool) for _ in range(4)]}}
        rule_list.append(
            {
                "id": f"synthetic-{i}",
                "title": f"Synthetic rule {i}",
                "all": [f"entity:org-{i}", f"concept:topic-{i}"],
                "within": "paragraph",
            }
        )
        i += 1
    # dedupe terms that the random draw repeated within one concept
    clean = {
        k: {**v, "terms": {lang: list(dict.fromkeys(ts)) for lang, ts in v["terms"].items()}}
        for k, v in concepts.items()
    }
    return Watchlist.model_validate(
        {"version": 1, "entities": entities, "concepts": clean, "rules": rule_list[:rules]}
    )


def _rule_terms(compiled: CompiledWatchlist) -> list[list[tuple[str, list[str]]]]:
    """Per rule: (condition, literal terms) — what the baselines search for."""
    out = []
    for rule in compiled.rules:
        conds = []
        for cond in rule.positive:
            kind, _, ident = cond.partition(":")
            if kind == "entity":
                terms = list(compiled.model.entities[ident].aliases)
            elif kind == "concept":
                terms = [t for ts in compiled.model.concepts[ident].terms.values() for t in ts]
            else:
                terms = [ident]
            terms = [t.strip("=*") for t in terms if not t.startswith("regex:")]
            conds.append((cond, [t for t in terms if t]))
        out.append(conds)
    return out


def _naive(compiled: CompiledWatchlist) -> Callable[[str], int]:
    rules = []
    for conds in _rule_terms(compiled):
        lookup = {t.casefold(): c for c, ts in conds for t in ts}
        alternation = "|".join(re.escape(t) for t in sorted(lookup, key=len, reverse=True))
        rules.append((re.compile(rf"\b(?:{alternation})\b", re.IGNORECASE), lookup, len(conds)))

    def run(text: str) -> int:
        fired = 0
        for rx, lookup, needed in rules:
            found = {lookup.get(m.casefold()) for m in rx.findall(text)}
            found.discard(None)
            if len(found) >= needed:
                fired += 1
        return fired

    return run


def _phrasematcher(compiled: CompiledWatchlist) -> tuple[Any, Callable[[Any], int]]:
    import spacy
    from spacy.matcher import PhraseMatcher

    nlp = spacy.blank("xx")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    by_cond: dict[str, set[str]] = {}
    for rule_conds in _rule_terms(compiled):
        for cond, terms in rule_conds:
            by_cond.setdefault(cond, set()).update(terms)
    tokenizer: Any = nlp.tokenizer
    for cond, term_set in by_cond.items():
        matcher.add(cond, list(tokenizer.pipe(sorted(term_set))))
    rules = [tuple(c for c, _ in rule_conds) for rule_conds in _rule_terms(compiled)]
    rules_by_cond: dict[str, list[int]] = {}
    for index, names in enumerate(rules):
        for cond in names:
            rules_by_cond.setdefault(cond, []).append(index)
    strings = nlp.vocab.strings

    def run(doc: Any) -> int:
        hit = {strings[match_id] for match_id, _, _ in matcher(doc)}
        candidates = {i for c in hit for i in rules_by_cond.get(c, ())}
        return sum(1 for i in candidates if all(c in hit for c in rules[i]))

    return nlp, run


def _compose(outer: Callable[[Any], Any], inner: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def run(item: Any) -> Any:
        return outer(inner(item))

    return run


def _throughput(
    items: list[Any], fn: Callable[[Any], Any], seconds: float, rounds: int = 3
) -> tuple[float, int]:
    """Best items per CPU second of ``rounds`` rounds; each cycles through ``items`` for at
    least ``seconds / rounds`` and at least ``min(len(items), 20)`` items (slow engines
    measure on the first articles only). The clock is this process's CPU time and the best
    round counts (as ``timeit`` does): other processes on a shared machine do not count."""
    fn(items[0])  # warm-up (lazy initialisation, caches)
    least = min(len(items), 20)
    best, total = 0.0, 0
    for _ in range(rounds):
        done = 0
        start = time.process_time()
        while done < least or time.process_time() - start < seconds / rounds:
            fn(items[done % len(items)])
            done += 1
        best = max(best, done / max(time.process_time() - start, 1e-9))
        total += done
    return best, total


def run_bench_match(
    rule_counts: list[int],
    *,
    articles: int = 200,
    seconds: float = 2.0,
    phrasematcher: bool = True,
    user: bool = True,
    user_articles: int = 400,
    out: Any = None,
) -> int:
    """Run the bench and print one JSON document; returns the exit code (0)."""
    out = out or sys.stdout
    corpus = synthetic_articles(articles)
    enriched: list[EnrichedArticle] = [
        build_enriched(aid, title, text, lang) for aid, title, text, lang in corpus
    ]
    texts = [e.clean_text for e in enriched]
    results = []
    for n in rule_counts:
        row: dict[str, Any] = {"rules": n, "compile_s": {}, "articles_per_s": {}}
        t0 = time.perf_counter()
        model = synthetic_watchlist(n)
        row["build_model_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        compiled = compile_watchlist(model)
        row["compile_s"]["newswatch"] = round(time.perf_counter() - t0, 3)
        row["automaton_keys"] = compiled.key_count
        fired = sum(len(match_article(compiled, e)) for e in enriched)
        row["matches_per_article"] = round(fired / len(enriched), 3)
        rate, _ = _throughput(enriched, partial(match_article, compiled), seconds)
        row["articles_per_s"]["newswatch"] = round(rate, 1)
        t0 = time.perf_counter()
        naive = _naive(compiled)
        row["compile_s"]["naive_regex"] = round(time.perf_counter() - t0, 3)
        rate, _ = _throughput(texts, naive, seconds)
        row["articles_per_s"]["naive_regex"] = round(rate, 2)
        if phrasematcher:
            t0 = time.perf_counter()
            nlp, pm = _phrasematcher(compiled)
            row["compile_s"]["phrasematcher"] = round(time.perf_counter() - t0, 3)
            rate, _ = _throughput(texts, _compose(pm, nlp.make_doc), seconds)
            row["articles_per_s"]["phrasematcher"] = round(rate, 1)
            docs = [nlp.make_doc(t) for t in texts]
            rate, _ = _throughput(docs, pm, seconds)
            row["articles_per_s"]["phrasematcher_match_only"] = round(rate, 1)
        own = row["articles_per_s"]["newswatch"]
        row["speedup_vs_naive_regex"] = round(own / row["articles_per_s"]["naive_regex"], 1)
        if phrasematcher:
            row["speedup_vs_phrasematcher"] = round(own / row["articles_per_s"]["phrasematcher"], 2)
        results.append(row)
        print(f"bench match: {n} rules done", file=sys.stderr)
    own_rates = {r["rules"]: r["articles_per_s"]["newswatch"] for r in results}
    lo, hi = min(own_rates), max(own_rates)
    report = {
        "bench": "match",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "articles": len(enriched),
        "avg_chars": round(sum(len(t) for t in texts) / len(texts)),
        "min_seconds_per_measurement": seconds,
        "clock": "process CPU time, best of 3 rounds",
        "results": results,
        "flatness": {
            "rules_low": lo,
            "rules_high": hi,
            "ratio": round(own_rates[hi] / own_rates[lo], 3),
        },
        "targets": {
            "speedup_vs_naive_at_max_rules>=50": results[-1]["speedup_vs_naive_regex"] >= 50,
            "throughput_at_max_rules>=50%_of_min_rules": own_rates[hi] >= 0.5 * own_rates[lo],
        },
    }
    if user:  # issue 15: the ``newswatch match`` command, enrichment included, from outside
        from streams.tools.bench.match_user import run_user_bench

        report["user"] = run_user_bench(rule_counts, articles=user_articles)
    print(json.dumps(report, indent=2), file=out)
    return 0
