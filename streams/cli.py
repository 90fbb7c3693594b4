"""The ``newswatch`` command line: the only place that wires settings, app and stages.

Every command parses settings once (``Settings.load``), imports what it needs lazily (so
``newswatch watchlist check`` does not pay for Faust or spaCy), and turns every newswatch
error into a one-line message and a non-zero exit code: a user never sees a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from streams.errors import NewswatchError

__all__ = ["main"]

cli = typer.Typer(
    name="newswatch",
    help="Streaming alerts for news: Kafka in, Slack and email out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
watchlist_cli = typer.Typer(help="Check and inspect watch-lists.", no_args_is_help=True)
bench_cli = typer.Typer(help="Benchmarks; results are printed as JSON.", no_args_is_help=True)
cli.add_typer(watchlist_cli, name="watchlist")
cli.add_typer(bench_cli, name="bench")


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from streams.settings import Settings

    return Settings.load(**overrides)


# --------------------------------------------------------------------------- broker & worker


@cli.command()
def broker(
    port: Annotated[int | None, typer.Option(help="listen port (default NEWSWATCH_BROKER_PORT)")] = None,
) -> None:
    """Run the embedded Kafka-compatible broker in the foreground until SIGINT/SIGTERM."""
    from streams.broker import run_broker_foreground

    settings = _settings(**({"broker_port": port} if port else {}))
    raise typer.Exit(run_broker_foreground(settings))


@cli.command()
def worker(
    web_port: Annotated[int | None, typer.Option(help="HTTP port for /health, /ready, /metrics")] = None,
) -> None:
    """Run one Faust worker (enrich+match and alert agents); start several to scale out."""
    from streams.runner import run_worker

    settings = _settings(**({"web_port": web_port} if web_port else {}))
    raise typer.Exit(run_worker(settings))


@cli.command()
def run(
    feeds: Annotated[list[str] | None, typer.Argument(help="RSS/Atom URLs to poll")] = None,
) -> None:
    """Long-running: embedded broker (unless KAFKA_BOOTSTRAP_SERVERS) + worker + feed polling."""
    from streams.runner import run_all

    settings = _settings()
    raise typer.Exit(run_all(settings, feeds=list(feeds or [])))


@cli.command()
def demo(
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 120.0,
) -> None:
    """Start broker + worker, ingest the bundled samples, print the alerts, exit 0."""
    from streams.demo import run_demo

    settings = _settings()
    raise typer.Exit(run_demo(settings, timeout=timeout))


@cli.command()
def ingest(
    sources: Annotated[list[str], typer.Argument(help="RSS/Atom URLs, .jsonl, .txt/.html files or folders")],
    follow: Annotated[bool, typer.Option(help="keep polling feeds")] = False,
) -> None:
    """Produce articles to articles.raw; each article id once per run."""
    from streams.ingest.producer import run_ingest

    settings = _settings()
    raise typer.Exit(run_ingest(settings, sources, follow=follow))


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping newswatch errors to exit codes."""
    try:
        cli(args=argv, prog_name="newswatch", standalone_mode=True)
    except NewswatchError as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
