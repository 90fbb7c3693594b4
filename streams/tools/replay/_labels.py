"""Labels for precision/recall: JSONL lines ``{"id", "rule", "relevant": true|false}``, or
the ``Feedback`` records of ``alerts.feedback`` (``labels_from_feedback``).

Pure. Extra keys on a line are ignored (notes, annotator). The same (id, rule) twice with the
same verdict is fine; with opposite verdicts it is an error naming both lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from pydantic import ValidationError

from schemas.records import Feedback
from streams.tools.replay.errors import ReplayInputError

__all__ = ["Labels", "labels_from_feedback", "load_labels"]


@dataclass(frozen=True)
class Labels:
    """Judgements per rule: ``by_rule[rule_id][article_id] = relevant``."""

    path: str
    by_rule: dict[str, dict[str, bool]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """Number of (article, rule) judgements."""
        return sum(len(v) for v in self.by_rule.values())

    @property
    def ids(self) -> frozenset[str]:
        """Every labelled article id."""
        return frozenset(i for judged in self.by_rule.values() for i in judged)


def load_labels(path: Path) -> Labels:
    """Read a labels file; ``ReplayInputError`` with ``file:line:col`` on a bad line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReplayInputError(exc.strerror or str(exc), where=str(path)) from None
    by_rule: dict[str, dict[str, bool]] = {}
    first_line: dict[tuple[str, str], int] = {}
    for lineno, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ReplayInputError(
                f"invalid JSON: {exc.msg}", where=f"{where}:{exc.colno}"
            ) from None
        if not isinstance(data, dict):
            raise ReplayInputError(
                'expected a JSON object {"id", "rule", "relevant"}', where=f"{where}:1"
            )
        ident, rule, relevant = data.get("id"), data.get("rule"), data.get("relevant")
        if not isinstance(ident, str) or not ident:
            raise ReplayInputError('"id" must be a non-empty string', where=f"{where}:1")
        if not isinstance(rule, str) or not rule:
            raise ReplayInputError('"rule" must be a non-empty string', where=f"{where}:1")
        if not isinstance(relevant, bool):
            raise ReplayInputError('"relevant" must be true or false', where=f"{where}:1")
        judged = by_rule.setdefault(rule, {})
        if ident in judged and judged[ident] != relevant:
            raise ReplayInputError(
                f"conflicting label for article {ident!r} and rule {rule!r} "
                f"(line {first_line[(rule, ident)]} says {str(judged[ident]).lower()})",
                where=f"{where}:1",
            )
        judged[ident] = relevant
        first_line.setdefault((rule, ident), lineno)
    return Labels(path=str(path), by_rule=by_rule)


def labels_from_feedback(values: Iterable[bytes | None], *, source: str) -> Labels:
    """Labels from ``Feedback`` record values: relevant → true, not_relevant → false.

    Mute and snooze judgements are no relevance label and are skipped, as are records that
    are not valid feedback. When one analyst (or several) judged the same (article, rule)
    more than once, the latest judgement (by its time) counts.
    """
    latest: dict[tuple[str, str], tuple[float, bool]] = {}
    for value in values:
        if value is None:
            continue
        try:
            feedback = Feedback.model_validate_json(value)
        except ValidationError:
            continue
        if feedback.verdict not in ("relevant", "not_relevant"):
            continue
        key = (feedback.rule_id, feedback.article_id)
        if key not in latest or feedback.at >= latest[key][0]:
            latest[key] = (feedback.at, feedback.verdict == "relevant")
    by_rule: dict[str, dict[str, bool]] = {}
    for (rule, article), (_at, relevant) in latest.items():
        by_rule.setdefault(rule, {})[article] = relevant
    return Labels(path=source, by_rule=by_rule)
