"""`newswatch enrich`: JSONL / .txt in, enriched JSONL out, bad lines reported with file:line."""

from __future__ import annotations

import io
import json
from pathlib import Path

from typer.testing import CliRunner

from streams.cli import cli
from streams.enrich import EnrichConfig
from streams.settings import SAMPLES_DIR
from streams.tools.enrich_cmd import load_patterns_file, run_enrich

CONFIG = EnrichConfig(
    models={"de": "de_core_news_sm"}, languages=["de", "en", "fr"], freeze_gc=False
)


def test_jsonl_with_a_bad_line_enriches_the_others(tmp_path: Path) -> None:
    """Good lines are enriched in order; bad ones are named FILE:LINE:COL on stderr; exit 1."""
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "a", "title": "Alibaba", "text": "Alibaba wächst in Lüttich."})
        + "\n{not json\n"
        + json.dumps({"id": "b", "title": "x"})
        + "\n\n"
        + json.dumps(
            {"id": "c", "title": "Spy", "text": "Alibaba grows in Liège.", "language": "en"}
        )
        + "\n",
        encoding="utf-8",
    )
    out, err = io.StringIO(), io.StringIO()
    patterns = [{"label": "ORG", "pattern": "Alibaba", "id": "alibaba"}]
    code = run_enrich(CONFIG, str(src), patterns=patterns, out=out, err=err)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert [r["article"]["id"] for r in records] == ["a", "c"]
    assert [r["language"] for r in records] == ["de", "en"]
    assert records[0]["entities"][0]["text"] == "Alibaba"
    problems = err.getvalue().splitlines()
    assert problems[0].startswith(f"{src}:2:2: not valid UTF-8 JSON")
    assert problems[1].startswith(f"{src}:3:1: text: Field required")


def test_missing_file_is_reported(tmp_path: Path) -> None:
    """A missing input is one clear line and exit code 1."""
    err = io.StringIO()
    assert run_enrich(CONFIG, str(tmp_path / "nope.jsonl"), out=io.StringIO(), err=err) == 1
    assert "no such file" in err.getvalue()


def test_stdin_is_read_with_dash() -> None:
    """`-` reads JSONL from standard input."""
    out = io.StringIO()
    line = json.dumps({"id": "s", "title": "T", "text": "Ein Text über Belgien und China."})
    assert run_enrich(CONFIG, "-", out=out, stdin=io.StringIO(line + "\n")) == 0
    assert json.loads(out.getvalue())["article"]["id"] == "s"


def test_cli_enrich_seed_article_with_the_bundled_watchlist(tmp_path: Path) -> None:
    """`newswatch enrich seed.txt` prints one line: German, boilerplate gone, Alibaba entity."""
    result = CliRunner().invoke(cli, ["enrich", str(SAMPLES_DIR / "alibaba-liege-de.txt")])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["language"] == "de"
    assert "WERBUNG" not in rec["clean_text"] and "source-121" not in rec["clean_text"]
    assert "Leave a Reply" not in rec["clean_text"]
    assert any(e["text"] == "Alibaba" for e in rec["entities"])


def test_cli_patterns_file(tmp_path: Path) -> None:
    """--patterns feeds the EntityRuler from a JSONL file; a bad file is a clean error."""
    pats = tmp_path / "p.jsonl"
    pats.write_text('{"label": "FAC", "pattern": "Frachtflughafen", "id": "cargo"}\n')
    assert load_patterns_file(pats)[0]["id"] == "cargo"
    src = SAMPLES_DIR / "alibaba-liege-de.txt"
    result = CliRunner().invoke(
        cli,
        ["enrich", str(src), "--patterns", str(pats), "--watchlist", str(tmp_path / "none.yaml")],
    )
    assert result.exit_code != 0
    result = CliRunner().invoke(cli, ["enrich", str(src), "--patterns", str(pats)])
    rec = json.loads(result.stdout.splitlines()[-1])
    assert any(e["label"] == "FAC" and e["origin"] == "ruler" for e in rec["entities"])
