"""EntityRuler pattern validation and normalisation."""

from __future__ import annotations

import pytest

from streams.enrich import PatternError, normalize_patterns


def test_patterns_are_normalised_and_get_a_default_id() -> None:
    """Phrase patterns are NFKC'd, spaces collapsed, ids defaulted and duplicates dropped."""
    out = normalize_patterns(
        [
            {"label": "ORG", "pattern": " Ａlibaba  Group ", "id": "alibaba"},
            {"label": "ORG", "pattern": "Alibaba Group", "id": "alibaba"},
            {"label": "ORG", "pattern": "Cainiao"},
            {"label": "ORG", "pattern": [{"LOWER": "ant"}, {"LOWER": "group"}], "id": "ant"},
        ]
    )
    assert out == [
        {"label": "ORG", "pattern": "Alibaba Group", "id": "alibaba"},
        {"label": "ORG", "pattern": "Cainiao", "id": "cainiao"},
        {"label": "ORG", "pattern": [{"LOWER": "ant"}, {"LOWER": "group"}], "id": "ant"},
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("Alibaba", "expected a mapping"),
        ({"pattern": "Alibaba"}, "'label'"),
        ({"label": "ORG", "pattern": "  "}, "empty"),
        ({"label": "ORG", "pattern": 5}, "'pattern'"),
        ({"label": "ORG", "pattern": "x", "id": 3}, "'id'"),
    ],
)
def test_bad_pattern_is_named_by_index(bad: object, message: str) -> None:
    """A malformed pattern raises PatternError naming its index and the problem."""
    with pytest.raises(PatternError, match=message) as info:
        normalize_patterns([{"label": "ORG", "pattern": "ok"}, bad])  # type: ignore[list-item]
    assert info.value.index == 1 and "#1" in str(info.value)
