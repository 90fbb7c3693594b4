"""Issue 13.4: alias amplification and oversized watch-lists fail fast with a clear message."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from streams.watchlist import WatchlistError, load_watchlist


def alias_bomb(concepts: int = 1950, terms: int = 1000) -> str:
    """A ~55 KB watch-list whose anchors expand to ``concepts * terms`` patterns."""
    words = ", ".join(f"t{i:04d}" for i in range(terms))
    lines = ["concepts:", f"  c0: &c {{terms: {{en: [{words}]}}}}"]
    lines += [f"  c{i}: *c" for i in range(1, concepts)]
    refs = ", ".join(f"concept:c{i}" for i in range(concepts))
    lines += ["rules:", "  - id: r", "    title: t", f"    any: [{refs}]"]
    return "\n".join(lines) + "\n"


def test_alias_bomb_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    """`watchlist check` on the 55 KB alias bomb (1.95 M patterns) fails with the limit and
    the setting in the message; the check process stays small (peak RSS reported)."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    assert 50_000 < bomb.stat().st_size < 60_000
    script = textwrap.dedent(
        f"""
        import io, json, resource
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from pathlib import Path
        from streams.tools.watchlist_cmd import run_check
        out = io.StringIO()
        code = run_check(Path({str(bomb)!r}), out=out)
        # VmHWM, not ru_maxrss: Linux carries a forking parent's peak into ru_maxrss
        status = Path("/proc/self/status").read_text()
        peak = int(next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM:")))
        print(json.dumps({{"code": code, "out": out.getvalue(), "peak_kb": peak}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["code"] == 1
    assert result["out"].startswith(f"{bomb}:1:1: YAML aliases expand to too many nodes")
    assert "NEWSWATCH_WATCHLIST_MAX_ALIAS_NODES" in result["out"]
    assert result["peak_kb"] < 400_000  # measured ~130 MB; the unbounded load took 1.45 GB


def test_alias_limit_is_raisable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list under the alias limit loads; lowering the setting refuses it, naming it."""
    path = tmp_path / "w.yaml"
    path.write_text(alias_bomb(concepts=20, terms=50), encoding="utf-8")
    assert len(load_watchlist(path).concepts) == 20
    monkeypatch.setenv("NEWSWATCH_WATCHLIST_MAX_ALIAS_NODES", "500")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    (problem,) = info.value.problems
    assert "more than the limit of 500" in problem.message
    assert "NEWSWATCH_WATCHLIST_MAX_ALIAS_NODES" in problem.message


def test_too_many_terms_without_aliases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain terms beyond NEWSWATCH_MAX_PATTERNS, over the main file and its includes, are
    refused before validation, naming the setting."""
    (tmp_path / "pack.yaml").write_text(
        json.dumps({"concepts": {"p": {"terms": {"en": [f"w{i}" for i in range(60)]}}}}),
        encoding="utf-8",
    )
    main = tmp_path / "w.yaml"
    main.write_text(
        json.dumps(
            {
                "include": ["pack.yaml"],
                "concepts": {"c": {"terms": {"en": [f"x{i}" for i in range(50)]}}},
                "rules": [{"id": "r", "title": "t", "any": ["concept:c", "concept:p"]}],
            }
        ),
        encoding="utf-8",
    )
    assert load_watchlist(main).concepts.keys() == {"c", "p"}
    monkeypatch.setenv("NEWSWATCH_MAX_PATTERNS", "100")
    with pytest.raises(WatchlistError) as info:
        load_watchlist(main)
    (problem,) = info.value.problems
    assert "too many terms" in problem.message and "NEWSWATCH_MAX_PATTERNS" in problem.message
