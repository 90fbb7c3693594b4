"""Labels JSONL: parsing and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.tools.replay import ReplayInputError, load_labels


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_labels_group_by_rule(tmp_path: Path) -> None:
    """Judgements are grouped per rule; blank lines, extra keys and repeats are fine."""
    path = _write(
        tmp_path,
        '{"id":"a","rule":"r1","relevant":true,"who":"x"}\n\n'
        '{"id":"b","rule":"r1","relevant":false}\n'
        '{"id":"a","rule":"r2","relevant":false}\n'
        '{"id":"a","rule":"r1","relevant":true}\n',
    )
    labels = load_labels(path)
    assert labels.by_rule == {"r1": {"a": True, "b": False}, "r2": {"a": False}}
    assert labels.count == 3
    assert labels.ids == {"a", "b"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"id":"a","rule":"r","relevant":true}\n{"id": ', ":2:", "invalid JSON"),
        ("[1, 2]\n", ":1:1", "JSON object"),
        ('{"rule":"r","relevant":true}\n', ":1:1", '"id"'),
        ('{"id":"a","relevant":true}\n', ":1:1", '"rule"'),
        ('{"id":"a","rule":"r","relevant":"yes"}\n', ":1:1", "true or false"),
        (
            '{"id":"a","rule":"r","relevant":true}\n{"id":"a","rule":"r","relevant":false}\n',
            ":2:1",
            "conflicting label .*line 1",
        ),
    ],
)
def test_bad_lines_name_file_line_col(tmp_path: Path, text: str, where: str, message: str) -> None:
    """A bad line is a ReplayInputError naming file:line:col and what is wrong."""
    path = _write(tmp_path, text)
    with pytest.raises(ReplayInputError, match=message) as info:
        load_labels(path)
    assert f"{path}{where}" in str(info.value)


def test_missing_labels_file(tmp_path: Path) -> None:
    """A missing file is a clear error naming the path."""
    with pytest.raises(ReplayInputError, match="No such file"):
        load_labels(tmp_path / "nope.jsonl")


def test_feedback_records_become_labels_latest_judgement_wins() -> None:
    """relevant/not_relevant become labels; mutes, snoozes and invalid records are skipped."""
    from schemas.records import Feedback
    from streams.tools.replay._labels import labels_from_feedback

    def record(article: str, verdict: str, at: float) -> bytes:
        return (
            Feedback(
                alert_id="al",
                rule_id="r1",
                article_id=article,
                story_id="st",
                verdict=verdict,  # type: ignore[arg-type]
                user_id="U1",
                at=at,
                watchlist_version="v",
            )
            .model_dump_json()
            .encode()
        )

    values = [
        record("a", "relevant", 2.0),
        record("a", "not_relevant", 1.0),  # older: overridden
        record("b", "not_relevant", 1.0),
        record("c", "snooze_rule", 1.0),
        b"not json",
        None,
    ]
    labels = labels_from_feedback(values, source="topic alerts.feedback")
    assert labels.by_rule == {"r1": {"a": True, "b": False}}
    assert labels.path == "topic alerts.feedback"
