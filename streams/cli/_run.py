"""Commands that run newswatch: broker, worker, run (all in one), demo, ingest."""

from __future__ import annotations

from typing import Annotated

import typer

from streams.cli._app import _settings, cli

__all__ = ["broker", "demo", "ingest", "run", "worker"]


@cli.command()
def broker(
    port: Annotated[
        int | None, typer.Option(help="listen port (default NEWSWATCH_BROKER_PORT)")
    ] = None,
) -> None:
    """Run the embedded Kafka-compatible broker in the foreground until SIGINT/SIGTERM."""
    from streams.kafka.broker import run_broker_foreground

    settings = _settings(**({"broker_port": port} if port else {}))
    raise typer.Exit(run_broker_foreground(settings))


@cli.command()
def worker(
    web_port: Annotated[
        int | None, typer.Option(help="HTTP port for /health, /ready, /metrics")
    ] = None,
) -> None:
    """Run one Faust worker (enrich+match and alert agents); start several to scale out."""
    from streams.pipeline.runner import run_worker

    settings = _settings(**({"web_port": web_port} if web_port else {}))
    raise typer.Exit(run_worker(settings))


@cli.command()
def run(
    feeds: Annotated[list[str] | None, typer.Argument(help="RSS/Atom URLs to poll")] = None,
) -> None:
    """Long-running: embedded broker (unless KAFKA_BOOTSTRAP_SERVERS) + worker + feed polling."""
    from streams.pipeline.runner import run_all

    settings = _settings()
    raise typer.Exit(run_all(settings, feeds=list(feeds or [])))


@cli.command()
def demo(
    timeout: Annotated[float, typer.Option(help="give up after this many seconds")] = 120.0,
) -> None:
    """Start broker + worker, ingest the bundled samples, print the alerts, exit 0."""
    from streams.tools.demo import run_demo

    settings = _settings()
    raise typer.Exit(run_demo(settings, timeout=timeout))


@cli.command()
def ingest(
    sources: Annotated[
        list[str], typer.Argument(help="RSS/Atom URLs, .jsonl, .txt/.html files or folders")
    ],
    follow: Annotated[bool, typer.Option(help="keep polling feeds")] = False,
) -> None:
    """Produce articles to articles.raw; each article id once per run."""
    from streams.ingest.producer import run_ingest

    settings = _settings()
    raise typer.Exit(run_ingest(settings, sources, follow=follow))
