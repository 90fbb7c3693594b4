"""Loading and checking watch-lists: every problem as FILE:LINE:COL, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from streams.errors import NewswatchError
from streams.watchlist import LoadedWatchlist, Problem, WatchlistError, load_watchlist

GOOD = """
version: 1
include: [espionage]
entities:
  alibaba:
    aliases: [Alibaba, 阿里巴巴]
rules:
  - id: alibaba-espionage
    title: Alibaba and espionage
    all: [entity:alibaba, concept:espionage]
"""


def problems_of(path: Path) -> list[Problem]:
    """The problems load_watchlist reports for a file (fails if it loads)."""
    with pytest.raises(WatchlistError) as err:
        load_watchlist(path)
    return err.value.problems


def test_valid_watchlist_loads_with_shipped_pack(write_yaml: Callable[..., Path]) -> None:
    """A valid file loads; the shipped espionage pack is found by its short name."""
    loaded = load_watchlist(write_yaml(GOOD))
    assert isinstance(loaded, LoadedWatchlist)
    assert [r.id for r in loaded.rules] == ["alibaba-espionage"]
    assert "espionage" in loaded.concepts
    assert loaded.paths()[1].name == "espionage.yaml"


def test_error_is_a_newswatch_error_with_file_line_col_lines(
    write_yaml: Callable[..., Path],
) -> None:
    """str(WatchlistError) is one FILE:LINE:COL: message line per problem."""
    path = write_yaml("version: 1\nrules:\n  - id: x\n    title: t\n    all: [entity:nope]\n")
    with pytest.raises(NewswatchError) as err:
        load_watchlist(path)
    assert str(err.value) == f"{path}:5:11: undefined entity 'nope'"


def test_yaml_syntax_error_points_at_the_line(write_yaml: Callable[..., Path]) -> None:
    """A YAML syntax error reports the line and column where the parser failed."""
    path = write_yaml("version: 1\nrules: [\n  - id: x\n")
    (problem,) = problems_of(path)
    assert (problem.file, problem.line) == (str(path), 3)
    assert problem.message.startswith("YAML syntax:")


def test_unknown_key_gets_did_you_mean(write_yaml: Callable[..., Path]) -> None:
    """A misspelt key is reported at the key with the closest valid key suggested."""
    path = write_yaml(
        """
        version: 1
        rules:
          - id: r1
            title: t
            all: [term:spy]
            withn: sentence
        """
    )
    (problem,) = problems_of(path)
    assert (problem.line, problem.col) == (6, 5)
    assert problem.message == "rules[0]: unknown key 'withn' (did you mean 'within'?)"


def test_undefined_reference_suggests_close_id(write_yaml: Callable[..., Path]) -> None:
    """An undefined concept is reported at the condition with a did-you-mean."""
    path = write_yaml(
        """
        version: 1
        concepts:
          espionage: {terms: {en: [spy]}}
        rules:
          - id: r1
            title: t
            all: [concept:espionnage]
        """
    )
    (problem,) = problems_of(path)
    assert (problem.line, problem.col) == (7, 11)
    assert problem.message == "undefined concept 'espionnage' (did you mean 'espionage'?)"


def test_undefined_concept_names_the_shipped_pack(write_yaml: Callable[..., Path]) -> None:
    """A reference to a shipped concept that was not included says which pack to include."""
    path = write_yaml("rules:\n  - {id: r, title: t, all: ['concept:sanctions']}\n")
    (problem,) = problems_of(path)
    assert "add 'include: [sanctions]'" in problem.message


def test_duplicate_rule_id_and_terms_are_reported(write_yaml: Callable[..., Path]) -> None:
    """Duplicate rule ids and terms equal after normalization are both reported."""
    path = write_yaml(
        """
        concepts:
          c:
            terms:
              de: [Spionage, SPIONAGE]
        rules:
          - {id: r, title: t, all: [concept:c]}
          - {id: r, title: u, all: [concept:c]}
        """
    )
    messages = [(p.line, p.message) for p in problems_of(path)]
    assert (4, "duplicate term 'SPIONAGE' (same as line 4 after normalization)") in messages
    assert (7, "duplicate rule id 'r' (first on line 6)") in messages


def test_empty_term_unknown_language_and_bad_regex(write_yaml: Callable[..., Path]) -> None:
    """Empty terms, unknown language codes and invalid regexes are each reported in place."""
    path = write_yaml(
        """
        concepts:
          c:
            terms:
              dee: [x]
              en: ["  ", "regex:spy(", "regex:a*"]
        rules:
          - {id: r, title: t, all: [concept:c]}
        """
    )
    found = {(p.line, p.col, p.message) for p in problems_of(path)}
    assert any(
        line == 4 and "unknown language code 'dee'" in m and "'de'" in m for line, _, m in found
    )
    assert (5, 12, "concepts.c.terms.en[0]: empty term") in found
    assert any(line == 5 and "invalid regex 'spy('" in m for line, _, m in found)
    assert any("matches the empty string" in m for _, _, m in found)


def test_bad_values_scope_channel_severity_duration(write_yaml: Callable[..., Path]) -> None:
    """Scope, channel, severity and throttle window are validated with clear messages."""
    path = write_yaml(
        """
        rules:
          - id: r
            title: t
            all: ["term:spy"]
            within: paragrph
            severity: urgent
            channels: [console, file, "slack:#sec", "email:nope", telegram]
            throttle: {per: story, window: 6 hours}
        """
    )
    messages = " | ".join(p.message for p in problems_of(path))
    assert "unknown scope 'paragrph'" in messages and "did you mean 'paragraph'" in messages
    assert "rules[0].severity" in messages
    assert "email needs an address" in messages
    assert "unknown channel 'telegram'" in messages
    assert "invalid duration '6 hours'" in messages
    assert "'slack:#sec'" not in messages  # plain names and slack:#chan are fine


def test_condition_kind_typo(write_yaml: Callable[..., Path]) -> None:
    """An unknown condition kind is reported with the closest kind."""
    path = write_yaml(
        "entities: {a: {aliases: [A]}}\nrules:\n  - {id: r, title: t, all: ['entiy:a']}\n"
    )
    (problem,) = problems_of(path)
    assert "unknown condition kind 'entiy:' (did you mean 'entity'?)" in problem.message


def test_rule_without_conditions(write_yaml: Callable[..., Path]) -> None:
    """A rule with neither all nor any conditions is reported at the rule."""
    path = write_yaml("rules:\n  - {id: empty, title: t}\n")
    (problem,) = problems_of(path)
    assert (problem.line, problem.col) == (2, 5)
    assert "needs at least one 'all' or 'any' condition" in problem.message


def test_condition_both_required_and_vetoed(write_yaml: Callable[..., Path]) -> None:
    """A condition in all and in none is reported: the rule could never fire."""
    path = write_yaml('rules:\n  - {id: never, title: t, all: ["term:spy"], none: ["term:spy"]}\n')
    (problem,) = problems_of(path)
    assert "the rule can never fire" in problem.message


def test_include_problems(write_yaml: Callable[..., Path]) -> None:
    """Missing includes (with a pack suggestion), cycles and rules inside packs are errors."""
    write_yaml("include: [b.yaml]\nconcepts: {a: {terms: {en: [x]}}}\n", "a.yaml")
    write_yaml("include: [a.yaml]\nrules:\n  - {id: r, title: t, all: ['term:x']}\n", "b.yaml")
    main = write_yaml("include: [a.yaml, espionnage]\n", "main.yaml")
    problems = problems_of(main)
    messages = [p.message for p in problems]
    assert any(
        "include 'espionnage' not found" in m and "did you mean 'espionage'" in m for m in messages
    )
    assert any("include cycle" in m for m in messages)
    rules_problem = next(p for p in problems if "may not define rules" in p.message)
    assert rules_problem.file.endswith("b.yaml") and rules_problem.line == 2


def test_same_concept_in_two_files(write_yaml: Callable[..., Path]) -> None:
    """Defining a concept that an include already defines is reported at the second definition."""
    write_yaml("concepts: {espionage: {terms: {en: [spy]}}}\n", "mine.yaml")
    path = write_yaml("include: [mine.yaml, espionage]\n", "main.yaml")
    (problem,) = problems_of(path)
    assert problem.file.endswith("espionage.yaml")
    assert "already defined in" in problem.message and "mine.yaml:1" in problem.message


def test_include_resolves_next_to_the_file_before_shipped_packs(
    write_yaml: Callable[..., Path],
) -> None:
    """A local packs/espionage.yaml wins over the shipped pack of the same name."""
    write_yaml("concepts: {espionage: {terms: {en: [snoop]}}}\n", "packs/espionage.yaml")
    loaded = load_watchlist(write_yaml("include: [packs/espionage.yaml]\n", "main.yaml"))
    assert loaded.concepts["espionage"].terms == {"en": ["snoop"]}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\xff\xfe\x00bad", "not valid UTF-8"),
        (b"- just\n- a list\n", "the top level must be a mapping"),
        (b"a: !!python/object:os.system x\n", "unsupported YAML tag"),
        (b"version: 1\nversion: 2\n", "duplicate key"),
        (b"version: 2\n", "version"),
        (b"rules: {id: x}\n", "expected a list, got a mapping"),
    ],
)
def test_malformed_files(tmp_path: Path, content: bytes, expected: str) -> None:
    """Malformed files of every kind give a WatchlistError naming the problem."""
    path = tmp_path / "w.yaml"
    path.write_bytes(content)
    problems = problems_of(path)
    assert any(expected in p.message for p in problems), problems


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is one problem, not an OSError."""
    (problem,) = problems_of(tmp_path / "nope.yaml")
    assert problem.message.startswith("file not found")


def test_alias_bomb_is_bounded(tmp_path: Path) -> None:
    """A YAML alias bomb is refused as too large instead of exhausting memory."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = problems_of(path)
    assert "too large" in problem.message


def test_leading_star_term_must_be_quoted_hint(write_yaml: Callable[..., Path]) -> None:
    """An unquoted '*term' (a YAML alias) gives a hint to quote it."""
    path = write_yaml("concepts: {c: {terms: {de: [*spionage]}}}\n")
    (problem,) = problems_of(path)
    assert "quote" in problem.message
