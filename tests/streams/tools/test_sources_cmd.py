"""``newswatch sources``: the table sorts as asked and the exit code says if all are healthy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.tools.sources_cmd import run_sources, sources_table

NOW = 1_800_000_000.0
ROWS = [
    {"source": "b", "status": "healthy", "last_success": NOW - 5, "consecutive_failures": 0},
    {
        "source": "a",
        "status": "failing",
        "last_success": NOW - 3600,
        "consecutive_failures": 4,
        "last_error": "HTTP 503",
    },
    {"source": "c", "status": "silent", "last_success": NOW - 60, "consecutive_failures": 0},
]


def test_table_sorts_by_status_then_by_source() -> None:
    """Worst first by default; --sort source is alphabetical; ages are relative."""
    by_status = [line.split()[0] for line in sources_table(ROWS, now=NOW).splitlines()[1:]]
    assert by_status == ["a", "c", "b"]
    by_name = [
        line.split()[0] for line in sources_table(ROWS, now=NOW, sort="source").splitlines()[1:]
    ]
    assert by_name == ["a", "b", "c"]
    assert "1h ago" in sources_table(ROWS, now=NOW) and "HTTP 503" in sources_table(ROWS, now=NOW)


def test_exit_code_is_one_unless_every_source_is_healthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failing source: exit 1; all healthy: 0; no status file yet: 0 with a hint."""
    (tmp_path / "sources.json").write_text(json.dumps({"written_at": NOW, "sources": ROWS}))
    assert run_sources(tmp_path) == 1
    assert "failing" in capsys.readouterr().out
    (tmp_path / "sources.json").write_text(json.dumps({"written_at": NOW, "sources": ROWS[:1]}))
    assert run_sources(tmp_path, as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["sources"][0]["source"] == "b"
    assert run_sources(tmp_path / "nowhere") == 0
    assert "no source health yet" in capsys.readouterr().out
