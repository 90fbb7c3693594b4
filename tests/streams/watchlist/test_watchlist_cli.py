"""The CLI: `newswatch watchlist check`, `newswatch match`, `newswatch bench match`."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from schemas.records import Match
from streams.cli import main
from streams.watchlist import build_enriched

EXAMPLE = (
    Path(__file__).resolve().parents[3] / "streams" / "watchlist" / "examples" / "watchlist.yaml"
)


def run(argv: list[str]) -> int:
    """Run the CLI like the console script does and return its exit code."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    code = exit_info.value.code
    return 0 if code is None else int(code)


def test_check_valid_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """A valid watch-list: exit 0 and a summary with version, rules, concepts and languages."""
    assert run(["watchlist", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK, version sha256:" in out
    assert "alibaba-espionage" in out
    assert "espionage" in out and "languages  " in out and " de " in out


def test_check_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints the summary as a JSON object."""
    assert run(["watchlist", "check", "--json", str(EXAMPLE)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rules"] == 1 and summary["version"].startswith("sha256:")


def test_check_invalid_prints_problem_lines(
    write_yaml: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid watch-list: exit 1, one FILE:LINE:COL line per problem, no traceback."""
    path = write_yaml(
        "rules:\n  - {id: r, title: t, all: ['concept:x'], withn: article}\n"
        "  - {id: s, title: t, all: ['entity:y']}\n"
    )
    assert run(["watchlist", "check", str(path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"{path}:2:29: undefined concept 'x'",
        f"{path}:2:43: rules[0]: unknown key 'withn' (did you mean 'within'?)",
        f"{path}:3:29: undefined entity 'y'",
    ]
    assert "Traceback" not in captured.out + captured.err


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file is a problem line and exit 1."""
    assert run(["watchlist", "check", str(tmp_path / "nope.yaml")]) == 1
    assert "file not found" in capsys.readouterr().out


def test_match_jsonl_with_a_bad_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    read_sample: Callable[[str], tuple[str, str]],
) -> None:
    """Good lines are matched (one JSON line per match), bad lines reported with their number."""
    title, body = read_sample("alibaba-liege-de.txt")
    lines = [
        json.dumps({"id": "seed", "title": title, "text": body, "language": "de"}),
        json.dumps({"id": "other", "title": "Alibaba cloud", "text": "Prices fall."}),
        "{not json",
        json.dumps({"title": "no id", "text": "x"}),
        "",
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines), encoding="utf-8")
    assert run(["match", "--no-enrich", "--watchlist", str(EXAMPLE), str(source)]) == 1
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    match = Match.model_validate_json(line)
    assert (match.rule_id, match.article_id) == ("alibaba-espionage", "seed")
    assert f"{source}:3:2: not valid UTF-8 JSON" in captured.err
    assert f"{source}:4:1: id:" in captured.err


def test_match_no_matches_exit_zero_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No match at all is still exit 0; '-' reads stdin."""
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "a", "title": "t", "text": "nothing"}\n'))
    assert run(["match", "--no-enrich", "--watchlist", str(EXAMPLE), "-"]) == 0
    assert capsys.readouterr().out == ""


def test_match_accepts_enriched_records_and_txt(
    tmp_path: Path,
    samples: Path,
    read_sample: Callable[[str], tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Enriched JSONL (newswatch enrich output) and a .txt article are accepted as input."""
    title, body = read_sample("alibaba-liege-de.txt")
    source = tmp_path / "enriched.jsonl"
    source.write_text(build_enriched("e1", title, body, "de").model_dump_json() + "\n")
    assert run(["match", "--no-enrich", "--watchlist", str(EXAMPLE), str(source)]) == 0
    assert (
        run(
            [
                "match",
                "--no-enrich",
                "--watchlist",
                str(EXAMPLE),
                str(samples / "alibaba-liege-de.txt"),
            ]
        )
        == 0
    )
    ids = [json.loads(line)["article_id"] for line in capsys.readouterr().out.splitlines()]
    assert ids[0] == "e1" and ids[1].startswith("txt-") and len(ids) == 2


def test_match_with_invalid_watchlist_is_a_clean_error(
    write_yaml: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """An invalid --watchlist is reported as FILE:LINE:COL without a traceback, exit 1."""
    path = write_yaml("rules: [{id: r, title: t, all: ['entity:x']}]\n")
    assert run(["match", "--no-enrich", "--watchlist", str(path), "-"]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:" in err and "undefined entity 'x'" in err and "Traceback" not in err


def test_bench_match_reports_json() -> None:
    """The bench prints throughput of all three engines and the target verdicts as JSON."""
    from streams.tools.bench.match import run_bench_match

    out = io.StringIO()
    assert run_bench_match([3, 30], articles=6, seconds=0.0, user=False, out=out) == 0
    report = json.loads(out.getvalue())
    assert [r["rules"] for r in report["results"]] == [3, 30]
    for row in report["results"]:
        assert set(row["articles_per_s"]) == {
            "newswatch", "naive_regex", "phrasematcher", "phrasematcher_match_only"
        }  # fmt: skip
        assert row["matches_per_article"] > 0  # the seed sample fires
    assert set(report["targets"]) and "ratio" in report["flatness"]


@pytest.mark.parametrize(
    "text",
    ["", "version: 1\n", "rules:\n  - {id: r, title: t, all: ['term:spy'], enabled: false}\n"],
)
def test_check_fails_without_enabled_rules(
    write_yaml: Callable[..., Path], capsys: pytest.CaptureFixture[str], text: str
) -> None:
    """Issue 12.7: an empty (e.g. truncated) watch-list or one whose rules are all disabled
    fails the check with a clear message; --allow-empty accepts it."""
    path = write_yaml(text)
    assert run(["watchlist", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:1:1: no enabled rule")
    assert "--allow-empty" in out
    assert run(["watchlist", "check", "--allow-empty", str(path)]) == 0
    assert "OK, version" in capsys.readouterr().out


def test_enabled_rules_count(write_yaml: Callable[..., Path]) -> None:
    """``CompiledWatchlist.enabled_rules`` counts enabled rules only (the worker's /ready)."""
    from streams.watchlist import load_and_compile

    path = write_yaml(
        "rules:\n"
        "  - {id: a, title: t, all: ['term:spy']}\n"
        "  - {id: b, title: t, all: ['term:spy'], enabled: false}\n"
    )
    assert load_and_compile(path).enabled_rules == 1
    assert load_and_compile(write_yaml("version: 1\n", "empty.yaml")).enabled_rules == 0


def test_check_shows_each_rules_story_window(
    write_yaml: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 12.7/12.4: the summary shows each rule's effective story window, saying when
    it is the 6 h default (no throttle)."""
    path = write_yaml(
        "rules:\n"
        "  - {id: quick, title: t, all: ['term:spy'], throttle: {window: 30m}}\n"
        "  - {id: plain, title: t, all: ['term:spy']}\n"
    )
    assert run(["watchlist", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "    quick  window 30m\n" in out
    assert "    plain  window 6h (default: no throttle)" in out
    assert run(["watchlist", "check", "--json", str(path)]) == 0
    windows = json.loads(capsys.readouterr().out)["rule_windows"]
    assert [(w["id"], w["window_s"], w["window_default"]) for w in windows] == [
        ("quick", 1800.0, False),
        ("plain", 21600.0, True),
    ]
