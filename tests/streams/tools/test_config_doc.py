"""docs/configuration.md is generated from the Settings model and kept current."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from streams.settings import Settings
from streams.tools import config_doc

DOC = Path(__file__).resolve().parents[3] / "docs" / "configuration.md"


def test_committed_doc_is_the_generator_output() -> None:
    """The committed page equals a fresh run: regenerate it when Settings change."""
    fresh = config_doc.render()
    assert DOC.read_text(encoding="utf-8") == fresh, (
        "docs/configuration.md is stale: python -m streams.tools.config_doc > docs/configuration.md"
    )


def test_every_setting_is_documented_with_a_meaning() -> None:
    """Each field of Settings has a row with a non-empty description."""
    rows = list(config_doc.rows(Settings))
    assert len(rows) == len(Settings.model_fields)
    assert [row.env for row in rows if not row.description] == []


def test_no_description_for_a_setting_that_does_not_exist() -> None:
    """Every fallback description names an environment variable the model reads."""
    envs = {row.env for row in config_doc.rows(Settings)}
    assert set(config_doc.DESCRIPTIONS) - envs == set()


def test_row_shows_env_name_type_bounds_default_and_description() -> None:
    """A field's alias, type with bounds, default and own description make its row."""
    (row,) = [r for r in config_doc.rows(Settings) if r.env == "NEWSWATCH_PARTITIONS"]
    assert (row.type, row.default) == ("int (≥ 1, ≤ 256)", "`4`")
    assert "partitions" in row.description


def test_paths_under_the_checkout_are_shown_relative() -> None:
    """The bundled watch-list default is shown as a repository path, not this machine's."""
    (row,) = [r for r in config_doc.rows(Settings) if r.env == "NEWSWATCH_WATCHLIST"]
    assert row.default == "`streams/watchlist/examples/watchlist.yaml`"


class _Kafka(BaseModel):
    """Stands in for a nested settings group."""

    partitions: int = Field(4, ge=1, description="partitions per topic")


class _Nested(BaseSettings):
    """Settings nested by concern, as the composition root may use them."""

    model_config = SettingsConfigDict(env_prefix="NEWSWATCH_", env_nested_delimiter="__")
    kafka: _Kafka = Field(default_factory=_Kafka)
    token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN", description="a token")


def test_nested_models_become_sections_with_their_env_names() -> None:
    """A nested model's fields get a section and prefix + group + delimiter + name."""
    page = config_doc.render(_Nested)
    assert "## Kafka" in page
    assert "| `NEWSWATCH_KAFKA__PARTITIONS` | int (≥ 1) | `4` | partitions per topic |" in page
    assert "| `SLACK_BOT_TOKEN` | str (optional) | unset | a token |" in page


def test_fallback_descriptions_only_for_fields_without_their_own() -> None:
    """A field's own ``Field(description=...)`` replaces its fallback entry (written once)."""
    own = {
        row.env
        for row in config_doc.rows(Settings)
        if row.description and row.description != config_doc.DESCRIPTIONS.get(row.env)
    }
    assert own & set(config_doc.DESCRIPTIONS) == set()
