"""The watch-list model and its JSON Schema file (editors validate YAML with it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from schemas.export import SCHEMA_FILES, render_schemas
from schemas.watchlist import Rule, Watchlist, duration_seconds, parse_scope

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_is_registered_and_current() -> None:
    """watchlist.schema.json is generated from the model and committed up to date."""
    assert SCHEMA_FILES["watchlist.schema.json"] == "schemas.watchlist:Watchlist"
    committed = (ROOT / "schemas" / "watchlist.schema.json").read_text(encoding="utf-8")
    assert committed == render_schemas()["watchlist.schema.json"]


def test_example_and_packs_validate_against_the_model() -> None:
    """The bundled example and every pack are valid documents of the model."""
    files = [
        ROOT / "streams/watchlist/examples/watchlist.yaml",
        *(ROOT / "streams/watchlist/packs").glob("*.yaml"),
    ]
    for path in files:
        Watchlist.model_validate(YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")))


def test_schema_describes_editor_patterns() -> None:
    """The JSON Schema forbids unknown keys and gives patterns for conditions and channels."""
    schema = json.loads(render_schemas()["watchlist.schema.json"])
    rule = schema["$defs"]["Rule"]
    assert rule["additionalProperties"] is False
    assert rule["properties"]["all"]["items"]["pattern"].startswith("^(entity|concept|term|regex)")
    assert "console" in rule["properties"]["channels"]["items"]["pattern"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), ("30s", 30.0), ("15m", 900.0), ("6h", 21600.0), ("2d", 172800.0)],
)
def test_durations(value: int | str, seconds: float) -> None:
    """Throttle windows are seconds or a number with s/m/h/d/w."""
    assert duration_seconds(value) == seconds


@pytest.mark.parametrize("value", ["0s", "6 hours", "-1", True, "400d"])
def test_bad_durations(value: int | str | bool) -> None:
    """Zero, unknown units, booleans and more than a year are rejected."""
    with pytest.raises(ValueError, match="duration"):
        duration_seconds(value)  # type: ignore[arg-type]


def test_scopes() -> None:
    """Scopes parse to a kind and, for token windows, a size."""
    assert parse_scope("paragraph") == ("paragraph", 0)
    assert parse_scope("12 tokens") == ("tokens", 12)
    with pytest.raises(ValueError, match="did you mean 'sentence'"):
        parse_scope("sentense")


def test_rule_model_rejects_bad_values_with_messages() -> None:
    """The model alone rejects bad channels, terms and language codes with readable messages."""
    with pytest.raises(ValidationError) as err:
        Rule.model_validate(
            {
                "id": "r",
                "title": "t",
                "all": ["term:*"],
                "channels": ["slack:not a channel", "pager"],
                "languages": ["deu"],
            }
        )
    text = str(err.value)
    assert "has no text besides wildcards" in text
    assert "slack needs '#channel-name'" in text
    assert "unknown channel 'pager'" in text
    assert "unknown language code 'deu' (ISO 639-1) (did you mean 'de'?)" in text
