"""Generate ``schemas/*.schema.json`` from the pydantic models: ``python -m schemas.export``."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from pydantic import BaseModel

__all__ = ["SCHEMA_FILES", "render_schemas", "write_schemas"]

HERE = Path(__file__).parent

#: file name -> "module:Model"
SCHEMA_FILES: dict[str, str] = {
    "raw-article.schema.json": "schemas.records:RawArticle",
    "enriched-article.schema.json": "schemas.records:EnrichedArticle",
    "alert.schema.json": "schemas.records:AlertRecord",
    "dead-letter.schema.json": "schemas.records:DeadLetter",
    "outcome.schema.json": "schemas.records:OutcomeRecord",
    "silence.schema.json": "schemas.records:Silence",
    "feedback.schema.json": "schemas.records:Feedback",
    "watchlist.schema.json": "schemas.watchlist:Watchlist",
}


def _model(ref: str) -> type[BaseModel]:
    module, name = ref.split(":")
    model = getattr(importlib.import_module(module), name)
    assert isinstance(model, type) and issubclass(model, BaseModel)
    return model


def render_schemas() -> dict[str, str]:
    """Return the text of every schema file, keyed by file name."""
    out: dict[str, str] = {}
    for file_name, ref in SCHEMA_FILES.items():
        schema = _model(ref).model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://newswatch.invalid/schemas/{file_name}"
        out[file_name] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return out


def write_schemas(directory: Path = HERE) -> list[Path]:
    """Write every schema file into ``directory`` and return their paths."""
    written = []
    for file_name, text in render_schemas().items():
        path = directory / file_name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    """``python -m schemas.export [--help]``: regenerate the JSON schemas next to the models."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m schemas.export",
        description="Write the JSON Schema of every record and of the watch-list into schemas/.",
    )
    parser.parse_args(argv)
    for p in write_schemas():
        print(p, file=sys.stdout)


if __name__ == "__main__":
    main()
