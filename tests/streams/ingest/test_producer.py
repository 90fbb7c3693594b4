"""`newswatch ingest` on the real broker: keys are article ids, each id once per run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.kafka.broker import EmbeddedBroker
from streams.settings import SAMPLES_DIR, Settings
from streams.testing import read_topic, settings_env

pytestmark = pytest.mark.broker


def test_ingest_folder_and_jsonl_once_per_id(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """Samples folder + a JSONL repeating one id: every id produced once, keyed by the id."""
    settings = make_settings(broker)
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        '{"id": "j1", "title": "One", "text": "first"}\n'
        '{"id": "j1", "title": "One again", "text": "same id"}\n'
        '{"id": "j2", "title": "Two", "text": "second", "language": "en"}\n'
    )
    env = {**settings_env(settings), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(SAMPLES_DIR), str(jsonl)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    samples = len(list(SAMPLES_DIR.glob("*.txt")))
    assert f"produced {samples + 2} article(s)" in result.stderr
    assert "1 duplicate id(s) skipped" in result.stderr
    records = read_topic(
        broker.bootstrap_servers, settings.topic("articles.raw"), expect=samples + 2, timeout=30
    )
    assert len(records) == samples + 2
    assert all(r["key"].decode() == r["value"]["id"] for r in records)
    assert all(r["value"]["ingested_at"] > 0 for r in records)


def test_ingest_bad_jsonl_is_a_one_line_error(
    broker: EmbeddedBroker, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """A broken JSONL line exits 1 with file:line:col and no traceback."""
    settings = make_settings(broker)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "title": "t", "text": "x"}\n{nope\n')
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "ingest", str(bad)],
        env={**settings_env(settings), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"{bad}:2:" in result.stderr and "Traceback" not in result.stderr
