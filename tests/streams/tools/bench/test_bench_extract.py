"""``newswatch bench extract``: token precision/recall of extracted bodies vs gold bodies."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

from streams.tools.bench.extract import iter_corpus, run_bench_extract, token_prf

BODY = (
    "The harbour authority said on Tuesday that container handling had resumed after a "
    "two-day outage. Engineers restored the scheduling system from backups overnight."
)
PAGE = f"""<html><head><title>Harbour back</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Harbour back to normal</h1><p>{BODY}</p>
<p>Officials expect the backlog of ships to clear by the end of the week, a spokesperson
for the port added in a statement.</p></article>
<footer>All rights reserved</footer></body></html>"""
GOLD = (
    BODY
    + "\n"
    + (
        "Officials expect the backlog of ships to clear by the end of the week, a spokesperson "
        "for the port added in a statement."
    )
)


def test_token_prf_counts_multisets() -> None:
    """Precision counts extracted words found in gold; recall gold words extracted."""
    assert token_prf("a b c d", "a b") == (0.5, 1.0)
    assert token_prf("a b", "a b c d") == (1.0, 0.5)
    assert token_prf("", "") == (1.0, 1.0)


def test_pairs_layout(tmp_path: Path) -> None:
    """NAME.html + NAME.txt pairs are read and scored; JSON on stdout."""
    (tmp_path / "p1.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "p1.txt").write_text(GOLD, encoding="utf-8")
    (tmp_path / "orphan.html").write_text(PAGE, encoding="utf-8")  # no gold: skipped
    out = io.StringIO()
    assert run_bench_extract(tmp_path, out=out) == 0
    result = json.loads(out.getvalue())
    assert result["pages"] == 1
    assert result["token_recall"] >= 0.95 and result["token_precision"] >= 0.8


def test_ground_truth_layout(tmp_path: Path) -> None:
    """ground-truth.json with html/NAME.html.gz (the article-extraction-benchmark layout)."""
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "x1.html.gz").write_bytes(gzip.compress(PAGE.encode("utf-8")))
    truth = {"x1": {"articleBody": GOLD, "url": "https://example.org/x1"}}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    assert [name for name, _, _ in iter_corpus(tmp_path)] == ["x1"]


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    """A folder without pages exits 1 instead of printing meaningless figures."""
    assert run_bench_extract(tmp_path, out=io.StringIO()) == 1
