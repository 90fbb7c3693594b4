"""``newswatch replay --input`` follows the bad-line policy of every command (docs/ingest.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.cli import main


def test_replay_input_skips_a_bad_line_and_exits_1(
    watchlists: tuple[Path, Path],
    corpus_jsonl: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``replay --input`` reports a Latin-1 line as FILE:LINE:COL, replays the rest, exits 1."""
    monkeypatch.setenv("NEWSWATCH_LANGUAGES", "en")
    corpus = corpus_jsonl()  # type: ignore[operator]
    lines = corpus.read_bytes().splitlines()
    bad = '{"id":"m","title":"Müller","text":"x"}'.encode("latin-1")
    corpus.write_bytes(b"\n".join([lines[0], bad, *lines[1:]]) + b"\n")
    new, base = watchlists
    with pytest.raises(SystemExit) as info:
        main(
            [
                *("replay", "-w", str(new), "--baseline", str(base), "--input", str(corpus)),
                *("--report", str(tmp_path / "r.html"), "--no-progress"),
            ]
        )
    out, err = capsys.readouterr()
    assert info.value.code == 1
    assert f"{corpus}:2:21: not valid UTF-8 JSON" in err
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert "alibaba-espionage" in rows and "TOTAL" in rows
