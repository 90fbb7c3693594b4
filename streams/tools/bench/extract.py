"""``newswatch bench extract``: body-extraction quality against gold bodies.

Each HTML page goes through the same cleaning as enrichment (trafilatura main-text
extraction, then the boilerplate line filter; no title, so nothing is dropped as a repeated
headline) and the extracted body is compared with a gold body: per page token precision
(extracted tokens that are in the gold body) and recall (gold tokens that were extracted),
counted as multisets of lower-cased word tokens, then averaged over pages.

Corpus layouts (``--corpus DIR``):

* pairs: ``NAME.html`` (or ``NAME.html.gz``) with the gold body in ``NAME.txt``;
* the article-extraction-benchmark layout: ``DIR/ground-truth.json`` (``{NAME:
  {"articleBody": "…"}}``) with pages in ``DIR/html/NAME.html.gz`` (or ``.html``).

Keep public benchmark pages outside the repository; only the figures go in docs.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from streams.enrich.boilerplate import load_boilerplate
from streams.enrich.clean import clean_article
from streams.enrich.config import PACK_LANGUAGES

__all__ = ["iter_corpus", "run_bench_extract", "token_prf"]

_TOKEN = re.compile(r"\w+")


def _tokens(text: str) -> Counter[str]:
    return Counter(t.casefold() for t in _TOKEN.findall(text))


def token_prf(extracted: str, gold: str) -> tuple[float, float]:
    """Token precision and recall of ``extracted`` against ``gold`` (multisets of words)."""
    got, want = _tokens(extracted), _tokens(gold)
    common = sum((got & want).values())
    n_got, n_want = sum(got.values()), sum(want.values())
    precision = common / n_got if n_got else (1.0 if not n_want else 0.0)
    recall = common / n_want if n_want else 1.0
    return precision, recall


def _read_html(path: Path) -> str:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    head = data[:4096].decode("ascii", "replace").lower()
    m = re.search(r"charset=[\"']?([\w-]+)", head)
    for encoding in (m.group(1) if m else "utf-8", "utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def iter_corpus(folder: Path) -> Iterator[tuple[str, Path, str]]:
    """``(name, html path, gold body)`` for every page of a corpus folder (see module doc)."""
    truth = folder / "ground-truth.json"
    if truth.is_file():
        gold = json.loads(truth.read_text(encoding="utf-8"))
        for name in sorted(gold):
            for candidate in (
                folder / "html" / f"{name}.html.gz",
                folder / "html" / f"{name}.html",
            ):
                if candidate.is_file():
                    yield name, candidate, str(gold[name].get("articleBody") or "")
                    break
        return
    for html in sorted([*folder.glob("*.html"), *folder.glob("*.html.gz")]):
        name = html.name.removesuffix(".gz").removesuffix(".html")
        txt = html.with_name(name + ".txt")
        if txt.is_file():
            yield name, html, txt.read_text(encoding="utf-8")


def run_bench_extract(
    folder: Path,
    *,
    max_chars: int = 200_000,
    worst: int = 0,
    out: IO[str] | None = None,
) -> int:
    """Print mean token precision/recall as JSON; 1 with a message when the corpus is empty."""
    out = out or sys.stdout
    if not folder.is_dir():
        print(f"error: {folder}: not a folder", file=sys.stderr)
        return 1
    boilerplate = load_boilerplate(PACK_LANGUAGES)
    rows: list[tuple[str, float, float]] = []
    started = time.perf_counter()
    for name, path, gold in iter_corpus(folder):
        html = _read_html(path)
        clean = clean_article(
            "", html, content_type="html", boilerplate=boilerplate, max_chars=max_chars
        )
        p, r = token_prf(clean.text, gold)
        rows.append((name, p, r))
    if not rows:
        print(f"error: {folder}: no pages with gold bodies found", file=sys.stderr)
        return 1
    n = len(rows)
    result: dict[str, Any] = {
        "pages": n,
        "token_precision": round(sum(p for _, p, _ in rows) / n, 4),
        "token_recall": round(sum(r for _, _, r in rows) / n, 4),
        "seconds": round(time.perf_counter() - started, 2),
    }
    if worst:
        result["worst_precision"] = [
            {"page": name, "precision": round(p, 3), "recall": round(r, 3)}
            for name, p, r in sorted(rows, key=lambda row: row[1])[:worst]
        ]
    out.write(json.dumps(result, indent=1) + "\n")
    return 0
