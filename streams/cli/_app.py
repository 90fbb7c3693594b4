"""The command tree (Typer apps), the root options and helpers shared by the commands."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["bench_cli", "cli", "silence_cli", "watchlist_cli"]


# rich_markup_mode=None: plain click help; typer's rich panels list every flag, --help
# included, as "<bool>" (typer 0.29 with click 8.3), which reads as if --help took a value.
cli = typer.Typer(
    name="newswatch",
    help="Streaming alerts for news: Kafka in, Slack and email out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


watchlist_cli = typer.Typer(
    help="Check and inspect watch-lists.", no_args_is_help=True, rich_markup_mode=None
)


bench_cli = typer.Typer(
    help="Benchmarks; results are printed as JSON.", no_args_is_help=True, rich_markup_mode=None
)


silence_cli = typer.Typer(
    help="Story mutes and rule snoozes (records on alerts.silences, honoured by every worker).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


cli.add_typer(watchlist_cli, name="watchlist")


cli.add_typer(bench_cli, name="bench")


cli.add_typer(silence_cli, name="silence")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newswatch")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        print(f"newswatch {_version()}")
        raise typer.Exit(0)


@cli.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the newswatch version and exit.",
        ),
    ] = False,
) -> None:
    """Streaming alerts for news: Kafka in, Slack and email out."""


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from streams.settings import Settings

    return Settings.load(**overrides)


def _time_option(value: str | None, name: str):  # type: ignore[no-untyped-def]
    from streams.tools.timeparse import TimeParseError, parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None
