"""``newswatch silence``: bad input and an unreachable broker are one line, never a traceback."""

from __future__ import annotations

import pytest

from streams.cli import main


def test_bad_duration_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--for soon`` names the option and the accepted forms; exit code 2."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    with pytest.raises(SystemExit) as info:
        main(["silence", "add", "--rule", "r1", "--for", "soon"])
    err = capsys.readouterr().err.strip().splitlines()
    assert info.value.code == 2
    assert err[-1].startswith("newswatch: error: --for: invalid duration 'soon'")


def test_unreachable_broker_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``silence list`` against a closed port: a one-line broker error, no traceback."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    with pytest.raises(SystemExit) as info:
        main(["silence", "list"])
    err = capsys.readouterr().err
    assert info.value.code != 0 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("newswatch: error: cannot read")
