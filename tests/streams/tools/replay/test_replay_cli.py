"""``newswatch replay`` on the command line: reports, exit codes, clean errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from streams.cli import main
from streams.kafka.broker import free_port


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    return int(info.value.code or 0)


def test_offline_replay_prints_table_and_writes_reports(
    watchlists: tuple[Path, Path],
    labels_file: Path,
    corpus_jsonl: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--input replays a JSONL file: summary table on stdout, HTML + JSON written, exit 0."""
    monkeypatch.setenv("NEWSWATCH_LANGUAGES", "en")
    new, base = watchlists
    code = _run(
        [
            "replay",
            "-w",
            str(new),
            "--baseline",
            str(base),
            "--input",
            str(corpus_jsonl()),
            "--since",
            "2024-03-02",
            "--until",
            "2024-03-06T00:00:00Z",
            "--labels",
            str(labels_file),
            "--report",
            str(tmp_path / "out.html"),
            "--json",
            str(tmp_path / "figures.json"),
            "--no-progress",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["alibaba-espionage"][1:5] == ["8", "8", "+4", "-4"]
    assert rows["TOTAL"][1:5] == ["12", "12", "+8", "-8"]
    assert "replay [" not in err
    figures = orjson.loads((tmp_path / "figures.json").read_bytes())
    assert figures["rules"][0]["new_scores"]["recall"] == 7 / 11
    assert (tmp_path / "out.html").read_text().count('<tr class="rule-row"') == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "ISO 8601"),
        (["--since", "1d", "--until", "2d"], "is not before"),
        (["--max-items", "0"], "at least 1"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    watchlists: tuple[Path, Path],
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Bad times or limits are usage errors (exit 2) with a one-line reason, no traceback."""
    code = _run(["replay", "-w", str(watchlists[0]), "--input", "x.jsonl", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_watchlist_is_required_unless_republishing(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --watchlist (and without --republish) the command says what is missing."""
    code = _run(["replay", "--input", "x.jsonl"])
    assert code == 2 and "--watchlist" in capsys.readouterr().err


def test_bad_watchlist_points_at_file_line_col(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An invalid NEW watch-list fails before any reading, with FILE:LINE:COL."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nrules:\n  - id: x\n    all: [entity:nobody]\n", encoding="utf-8")
    code = _run(["replay", "-w", str(bad), "--input", "x.jsonl", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and f"{bad}:" in err and "Traceback" not in err


def test_unreachable_broker_is_a_clear_error(
    watchlists: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No broker at KAFKA_BOOTSTRAP_SERVERS: exit 1 and a hint to use --input, no traceback."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEWSWATCH_DATA_DIR", str(tmp_path))
    new, base = watchlists
    code = _run(["replay", "-w", str(new), "--baseline", str(base), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and "no Kafka broker answers" in err and "--input" in err
    assert "Traceback" not in err
