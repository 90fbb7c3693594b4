"""Issue 13.2: ``regex:`` terms run in linear time (RE2), and check rejects what RE2 cannot run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from streams.watchlist import WatchlistError, load_watchlist, match_text
from streams.watchlist.regex import RegexError, compile_regex

Build = Callable[..., object]
CATASTROPHIC = [r"(a+)+$", r"(x|x)*y", r"(\w+\s?)+ cve"]
# inputs on which a backtracking engine needs ~2^40 steps (hours); RE2 needs microseconds
ADVERSARIAL = ["a" * 40 + "!", "x" * 40, "a" * 40 + "!"]


def test_catastrophic_regexes_finish(tmp_path: Path) -> None:
    """Matching the three catastrophic patterns on exponential-time inputs finishes (a
    backtracking engine would run for hours: the subprocess guard turns that into a failure)."""
    wl = tmp_path / "w.yaml"
    rules = [
        {"id": f"r{i}", "title": "t", "all": [f"regex:{p}"], "within": "article"}
        for i, p in enumerate(CATASTROPHIC)
    ]
    wl.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import json, sys
        from streams.watchlist import load_and_compile, match_text
        wl = load_and_compile({str(wl)!r})
        texts = {ADVERSARIAL!r} + ["aaa cve"]
        print(json.dumps([[m.rule_id for m in match_text(wl, "a", "", t, "en")] for t in texts]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(done.stdout) == [[], [], [], ["r2"]]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"(spy)\s+\1", "backreference"),
        (r"spy(?=ware)", "lookahead"),
        (r"(?<!anti)spy", "lookbehind"),
        (r"spy\bware", "start or end"),
    ],
)
def test_check_rejects_patterns_the_engine_cannot_bound(
    write_yaml: Callable[..., Path], pattern: str, message: str
) -> None:
    """A pattern RE2 cannot run is a FILE:LINE:COL problem naming the construct, not a crash."""
    path = write_yaml(
        "concepts:\n"
        "  c:\n"
        "    terms:\n"
        f"      en: [spy, {json.dumps('regex:' + pattern)}]\n"
        "rules:\n"
        f"  - {{id: r, title: t, all: [concept:c, {json.dumps('regex:' + pattern)}]}}\n"
    )
    with pytest.raises(WatchlistError) as info:
        load_watchlist(path)
    problems = info.value.problems
    assert [(p.line, p.col) for p in problems] == [(4, 17), (6, 40)]
    for p in problems:
        assert p.file == str(path) and message in p.message and "RE2" in p.message


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"cve-\d{4}-\d{4,}", "see cve-2024-12345, cve-2023-9999x and cve-2021-00001"),
        (r"\bspy\b", "spy spy spyware a-spy"),
        (r"\bbehörde\w*", "die behörden; xbehörde behörde"),
        (r"(\w+\s?)+ cve", "größte lücke cve"),
        (r"a{,2}b", "aaab"),
        (r"[]a]+", "x]a]"),
        (r"ü+|\d+", "aüü b ü ٣٤"),
        (r"[^\w\s]+", "a, b! ü ?"),
    ],
)
def test_translation_keeps_python_meaning(pattern: str, text: str) -> None:
    """The RE2 translation finds what Python's ``re`` finds (Unicode \\w, \\d, \\b at edges)."""
    expected = [m.span() for m in re.finditer(pattern, text)]
    assert list(compile_regex(pattern).spans(text)) == expected


def test_evidence_offsets_after_non_ascii(watchlist: Build) -> None:
    """A regex hit after multi-byte characters quotes the original characters."""
    wl = watchlist(all=[r"regex:cve-\d{4}-\d+"], within="article")
    text = "Größte Lücke – ＣＶＥ-2024-1 und Ａ… CVE-2025-77"
    (m,) = match_text(wl, "a", "", text, "de")  # type: ignore[arg-type]
    assert [e.surface for e in m.evidence][:2] == ["ＣＶＥ-2024-1", "CVE-2025-77"]


def test_compile_regex_error_is_value_error() -> None:
    """``RegexError`` is a ValueError with a clear message (no RE2 log noise)."""
    with pytest.raises(RegexError, match="backreference"):
        compile_regex(r"(a)\1")


@pytest.mark.parametrize("pattern", ["[[", "[[a]", "(" * 2000 + "a" + ")" * 2000])
def test_patterns_python_warns_about_or_cannot_nest_never_escape_the_loader(
    write_yaml: Callable[..., Path], pattern: str
) -> None:
    """`[[` (a FutureWarning in Python's re) and absurd nesting load or fail as problems only."""
    path = write_yaml(
        "concepts:\n"
        "  c:\n"
        "    terms:\n"
        f"      en: [spy, {json.dumps('regex:' + pattern)}]\n"
        "rules:\n"
        "  - {id: r, title: t, all: [concept:c]}\n"
    )
    try:
        load_watchlist(path)
    except WatchlistError as exc:
        assert exc.problems and all(p.file == str(path) for p in exc.problems)
