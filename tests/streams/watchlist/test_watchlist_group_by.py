"""The per-rule story options: ``group_by`` and the effective story window."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from schemas.watchlist import Rule
from streams.watchlist import CompiledWatchlist, WatchlistError, match_text

Build = Callable[..., CompiledWatchlist]
CONCEPT = {"c": {"terms": {"en": ["espionage"]}}}


def test_default_group_by_is_url_and_text_and_window_is_six_hours(watchlist: Build) -> None:
    """Without options a rule groups by URL and text only, with a 6 h window."""
    wl = watchlist(concepts=CONCEPT, any=["concept:c"])
    [rule] = wl.rules
    assert rule.group_by == ("url", "text") and rule.window_s == 6 * 3600
    [m] = match_text(wl, "a", "", "Claims of espionage.", "en")
    assert m.group_by == ["url", "text"] and m.throttle_window_s is None


def test_group_by_entities_travels_to_the_match(watchlist: Build) -> None:
    """``group_by: [url, text, entities]`` is compiled and carried on every Match."""
    wl = watchlist(
        concepts=CONCEPT,
        any=["concept:c"],
        group_by=["url", "text", "entities"],
        throttle={"window": "2h"},
    )
    [rule] = wl.rules
    assert rule.group_by == ("url", "text", "entities") and rule.window_s == 7200
    [m] = match_text(wl, "a", "", "Claims of espionage.", "en")
    assert m.group_by == ["url", "text", "entities"] and m.throttle_window_s == 7200


@pytest.mark.parametrize("bad", [[], ["topic"]])
def test_group_by_rejects_unknown_or_empty(watchlist: Build, bad: list[str]) -> None:
    """An empty list or an unknown grouping is a validation error."""
    with pytest.raises(WatchlistError):
        watchlist(concepts=CONCEPT, any=["concept:c"], group_by=bad)
    assert "group_by" in Rule.model_json_schema()["properties"]
