"""``newswatch bench match --regex-worst-case``: matching time per article for catastrophic
regular expressions on adversarial text (issue 13.2).

A watch-list with one rule per pattern — ``(a+)+$``, ``(x|x)*y``, ``(\\w+\\s?)+ cve``, each
a regex-only rule, so it runs on every article — is matched against 100 KB articles built to
make a backtracking engine explode (long runs of the repeated character without the final
one, words without the trailing ``cve``, and non-ASCII variants). A backtracking engine needs
exponential time on each; RE2 needs time linear in the text. Output: JSON with the worst
and median milliseconds per article for the three regexes (the figure the target is about)
and for the whole ``match_article`` (wall clock, best of a few rounds).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from schemas.watchlist import Watchlist
from streams.watchlist.compile import compile_watchlist
from streams.watchlist.match import build_enriched, match_article
from streams.watchlist.regex import ByteMap, SafeRegex
from streams.watchlist.text import normalize

__all__ = ["ADVERSARIAL_PATTERNS", "adversarial_texts", "run_regex_worst_case"]

ADVERSARIAL_PATTERNS = [r"(a+)+$", r"(x|x)*y", r"(\w+\s?)+ cve"]
TARGET_MS = 50.0


def adversarial_texts(size: int = 100_000) -> dict[str, str]:
    """Texts of ``size`` characters on which the patterns backtrack exponentially."""
    words = ("aaaa bbbb " * (size // 10 + 1))[:size]
    return {
        "a_run_then_bang": "a" * (size - 1) + "!",
        "x_run_no_y": "x" * size,
        "words_no_cve": words,
        "word_chars_no_space": "ab" * (size // 2),
        "non_ascii_words": ("größe lücke " * (size // 12 + 1))[:size],
        "mixed_runs": ("a" * 999 + "!" + "x" * 999 + " ") * (size // 2000),
        "many_matches": ("a cve " * (size // 6 + 1))[:size],
    }


def _run_regexes(regexes: list[SafeRegex], view: str) -> int:
    bytemap = ByteMap(view)
    return sum(1 for rx in regexes for _ in rx.spans(view, bytemap))


def _best_ms(rounds: int, fn: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000, 2)


def run_regex_worst_case(*, rounds: int = 3, size: int = 100_000, out: Any = None) -> int:
    """Print the worst-case JSON report; exit code 0 when under the target, else 1."""
    out = out or sys.stdout
    model = Watchlist.model_validate(
        {
            "rules": [
                {"id": f"rx{i}", "title": p, "all": [f"regex:{p}"], "within": "article"}
                for i, p in enumerate(ADVERSARIAL_PATTERNS)
            ]
        }
    )
    compiled = compile_watchlist(model)
    regexes = [rx for entries in compiled.regexes.values() for _, rx in entries]
    per_text: dict[str, float] = {}
    whole: dict[str, float] = {}
    for name, text in adversarial_texts(size).items():
        enriched = build_enriched(name, "", text, "en")
        view = normalize(text)
        per_text[name] = _best_ms(rounds, partial(_run_regexes, regexes, view))
        whole[name] = _best_ms(rounds, partial(match_article, compiled, enriched))
    worst = max(per_text.values())
    report = {
        "bench": "match_regex_worst_case",
        "patterns": ADVERSARIAL_PATTERNS,
        "article_chars": size,
        "clock": f"wall clock, best of {rounds} per article (all three regexes per article)",
        "regex_ms_per_article": per_text,
        "worst_ms": worst,
        "median_ms": round(statistics.median(per_text.values()), 2),
        "match_article_ms": whole,
        "match_article_note": "whole match_article: text normalization included (it dominates"
        " on non-ASCII text and does not depend on the patterns)",
        "target_ms": TARGET_MS,
        "target_met": worst < TARGET_MS,
    }
    print(json.dumps(report, indent=2), file=out)
    return 0 if worst < TARGET_MS else 1
