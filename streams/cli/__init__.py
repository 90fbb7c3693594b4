"""The ``newswatch`` command line: the only place that wires settings, app and stages.

Every command parses settings once (``Settings.load``), imports what it needs lazily (so
``newswatch watchlist check`` does not pay for Faust or spaCy), and turns every newswatch
error into a one-line message and a non-zero exit code: a user never sees a traceback.

    _app       the Typer apps, --version, shared option parsing
    _run       broker, worker, run, demo, ingest
    _tools     enrich, watchlist check, match, eval, replay, audit, sources
    _bench     bench enrich | extract | match | replay | e2e | ...
    _silence   silence add | list | expire
"""

from __future__ import annotations

import sys

from alerts.errors import AlertError
from streams.cli import _bench, _run, _silence, _tools  # noqa: F401  (registers the commands)
from streams.cli._app import cli
from streams.errors import NewswatchError

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping newswatch errors to exit codes."""
    try:
        cli(args=argv, prog_name="newswatch", standalone_mode=True)
    except (NewswatchError, AlertError) as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
