"""``newswatch eval``: precision/recall/F1 of the matcher on a labelled corpus.

The corpus is JSONL, one article per line::

    {"id": "de-001", "language": "de", "title": "…", "text": "…", "labels": ["rule-id", …]}

``labels`` lists the rules of the watch-list that should fire on the article (an empty list
is a negative example for every rule). Each article goes through the real enrichment stage
*without* its language (the detector is part of what is measured) and the matcher; the
result is compared with the labels per rule and per language. Beside it runs the naive
baseline: one case-insensitive prefix regex per term (``\\bterm``), terms of every language,
no enrichment, rules evaluated over the whole article (``all``/``any``/``none``).
Language detection accuracy is reported per language (``no`` and ``nb`` are the same).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.records import EnrichedArticle, RawArticle
from streams.watchlist.compile import CompiledRule, CompiledWatchlist
from streams.watchlist.match import match_article

__all__ = [
    "CorpusArticle",
    "EvalResult",
    "NaiveBaseline",
    "evaluate",
    "format_table",
    "load_corpus",
    "run_eval",
]

EnrichFn = Callable[[Sequence[RawArticle]], Sequence[EnrichedArticle | Exception]]


class CorpusArticle(BaseModel):
    """One labelled article of an evaluation corpus."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    language: str = Field(min_length=2, max_length=8)
    title: str
    text: str
    labels: list[str] = Field(default_factory=list)
    note: str = ""


def load_corpus(path: Path) -> list[CorpusArticle]:
    """Read a JSONL corpus; ``ValueError`` with ``FILE:LINE`` on the first bad line."""
    out: list[CorpusArticle] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = CorpusArticle.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                loc = ".".join(str(x) for x in first["loc"])
                raise ValueError(f"{path}:{n}: {loc}: {first['msg']}") from None
            if item.id in seen:
                raise ValueError(f"{path}:{n}: duplicate id {item.id!r}")
            seen.add(item.id)
            out.append(item)
    return out


class NaiveBaseline:
    """One case-insensitive prefix regex per term, every language, whole-article rules."""

    def __init__(self, compiled: CompiledWatchlist) -> None:
        self.rules = compiled.rules
        self._rx: dict[str, re.Pattern[str]] = {}
        terms: dict[str, list[str]] = {}
        for pattern in compiled.patterns:
            raw = pattern.spec.raw.strip().lstrip("=").strip("*").strip()
            if raw and not pattern.cond.startswith("!"):
                terms.setdefault(pattern.cond, []).append(re.escape(raw))
        for cond, items in compiled.regexes.items():
            terms.setdefault(cond, []).extend(p.spec.regex or "" for p, _ in items)
        for cond, alts in terms.items():
            alts = sorted(set(alts), key=len, reverse=True)
            self._rx[cond] = re.compile(r"(?<!\w)(?:" + "|".join(alts) + ")", re.IGNORECASE)

    def _hit(self, cond: str, text: str) -> bool:
        rx = self._rx.get(cond)
        return bool(rx and rx.search(text))

    def _fires(self, rule: CompiledRule, text: str) -> bool:
        if not all(self._hit(c, text) for c in rule.all):
            return False
        if rule.any and not any(self._hit(c, text) for c in rule.any):
            return False
        return not any(self._hit(c, text) for c in rule.none)

    def match(self, title: str, text: str) -> set[str]:
        """Ids of the rules the baseline fires on ``title`` + ``text``."""
        full = f"{title}\n\n{text}"
        return {r.id for r in self.rules if self._fires(r, full)}


@dataclass
class _Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: bool, gold: bool) -> None:
        self.tp += predicted and gold
        self.fp += predicted and not gold
        self.fn += gold and not predicted

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


@dataclass
class EvalResult:
    """Counts per rule and per language for the system and the naive baseline."""

    rules: list[str]
    system_rule: dict[str, _Counts] = field(default_factory=dict)
    naive_rule: dict[str, _Counts] = field(default_factory=dict)
    system_lang: dict[str, _Counts] = field(default_factory=dict)
    naive_lang: dict[str, _Counts] = field(default_factory=dict)
    detected: dict[str, list[int]] = field(default_factory=dict)  # lang -> [right, total]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: per rule, per language, means and detection accuracy."""

        def block(counts: dict[str, _Counts]) -> dict[str, Any]:
            return {
                k: dict(zip(("p", "r", "f1"), (round(x, 3) for x in c.prf()), strict=True))
                | {"tp": c.tp, "fp": c.fp, "fn": c.fn}
                for k, c in sorted(counts.items())
            }

        def mean_f1(counts: dict[str, _Counts]) -> float:
            values = [c.prf()[2] for c in counts.values()]
            return round(sum(values) / len(values), 3) if values else 0.0

        return {
            "articles": sum(t for _, t in self.detected.values()),
            "mean_f1": {
                "system": mean_f1(self.system_rule),
                "naive": mean_f1(self.naive_rule),
            },
            "mean_f1_languages": {
                "system": mean_f1(self.system_lang),
                "naive": mean_f1(self.naive_lang),
            },
            "rules": {"system": block(self.system_rule), "naive": block(self.naive_rule)},
            "languages": {"system": block(self.system_lang), "naive": block(self.naive_lang)},
            "detection": {
                lang: {"right": r, "total": t, "accuracy": round(r / t, 3) if t else 0.0}
                for lang, (r, t) in sorted(self.detected.items())
            },
            "errors": self.errors,
        }


def _same_lang(a: str, b: str) -> bool:
    alias = {"no": "nb", "nn": "nb"}
    a, b = a.lower().split("-")[0], b.lower().split("-")[0]
    return alias.get(a, a) == alias.get(b, b)


def evaluate(
    compiled: CompiledWatchlist,
    corpus: Sequence[CorpusArticle],
    enrich: EnrichFn,
    *,
    batch: int = 32,
) -> EvalResult:
    """Run the system and the naive baseline over ``corpus``; counts per rule and language."""
    rule_ids = [r.id for r in compiled.rules]
    known = set(rule_ids)
    result = EvalResult(rules=rule_ids)
    naive = NaiveBaseline(compiled)
    for rid in rule_ids:
        result.system_rule[rid] = _Counts()
        result.naive_rule[rid] = _Counts()
    for i in range(0, len(corpus), batch):
        chunk = corpus[i : i + batch]
        raws = [RawArticle(id=a.id, title=a.title, text=a.text) for a in chunk]
        for item, enriched in zip(chunk, enrich(raws), strict=True):
            gold = set(item.labels) & known
            lang = item.language
            det = result.detected.setdefault(lang, [0, 0])
            det[1] += 1
            if isinstance(enriched, Exception):
                predicted: set[str] = set()
                result.errors.append({"id": item.id, "error": str(enriched)})
            else:
                det[0] += _same_lang(enriched.language, lang)
                predicted = {m.rule_id for m in match_article(compiled, enriched)}
            baseline = naive.match(item.title, item.text)
            missed = (gold - predicted) | (predicted - gold)
            if missed:
                detected = "" if isinstance(enriched, Exception) else enriched.language
                result.errors.append(
                    {
                        "id": item.id,
                        "detected": detected,
                        "missing": sorted(gold - predicted),
                        "extra": sorted(predicted - gold),
                    }
                )
            sys_lang = result.system_lang.setdefault(lang, _Counts())
            naive_lang = result.naive_lang.setdefault(lang, _Counts())
            for rid in rule_ids:
                result.system_rule[rid].add(rid in predicted, rid in gold)
                result.naive_rule[rid].add(rid in baseline, rid in gold)
                sys_lang.add(rid in predicted, rid in gold)
                naive_lang.add(rid in baseline, rid in gold)
    return result


def format_table(summary: dict[str, Any]) -> str:
    """The human-readable report: rules, languages, detection accuracy, means."""
    lines = [f"articles: {summary['articles']}", ""]
    header = f"{'':28} {'P':>6} {'R':>6} {'F1':>6}   {'naive P':>7} {'R':>6} {'F1':>6}"
    for title, key in (("rule", "rules"), ("language", "languages")):
        lines.append(header.replace(" " * 28, f"{title:28}", 1))
        system, naive = summary[key]["system"], summary[key]["naive"]
        for name in system:
            s, n = system[name], naive[name]
            det = ""
            if key == "languages":
                d = summary["detection"].get(name)
                det = f"   detected {d['right']}/{d['total']}" if d else ""
            lines.append(
                f"{name:28} {s['p']:6.3f} {s['r']:6.3f} {s['f1']:6.3f}   "
                f"{n['p']:7.3f} {n['r']:6.3f} {n['f1']:6.3f}{det}"
            )
        lines.append("")
    m, ml = summary["mean_f1"], summary["mean_f1_languages"]
    lines.append(f"mean F1 over rules:     system {m['system']:.3f}   naive {m['naive']:.3f}")
    lines.append(f"mean F1 over languages: system {ml['system']:.3f}   naive {ml['naive']:.3f}")
    det = summary["detection"]
    right = sum(d["right"] for d in det.values())
    total = sum(d["total"] for d in det.values())
    lines.append(f"language detection: {right}/{total} right")
    return "\n".join(lines)


def run_eval(
    compiled: CompiledWatchlist,
    corpus_path: Path,
    enrich: EnrichFn,
    *,
    as_json: bool = False,
    show_errors: bool = False,
    out: IO[str] | None = None,
) -> int:
    """Evaluate and print the table (or JSON); 0, or 1 with a message on a bad corpus."""
    out = out or sys.stdout
    try:
        corpus = load_corpus(corpus_path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    summary = evaluate(compiled, corpus, enrich).to_dict()
    if as_json:
        out.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
        return 0
    out.write(format_table(summary) + "\n")
    if show_errors:
        for err in summary["errors"]:
            out.write(json.dumps(err, ensure_ascii=False) + "\n")
    return 0
