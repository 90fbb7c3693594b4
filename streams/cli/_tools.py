"""Commands that read and judge: enrich, watchlist check, match, eval, replay, audit, sources."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from streams.cli._app import _settings, _time_option, cli, watchlist_cli

__all__ = [
    "audit",
    "enrich",
    "eval_corpus",
    "match_articles",
    "replay",
    "sources",
    "watchlist_check",
]


@cli.command()
def enrich(
    source: Annotated[str, typer.Argument(help="JSONL file, .txt/.html file, or - (stdin)")] = "-",
    watchlist: Annotated[
        str | None, typer.Option(help="watch-list whose entity aliases feed the EntityRuler")
    ] = None,
    patterns: Annotated[
        str | None, typer.Option(help="EntityRuler patterns file (JSON list or JSONL)")
    ] = None,
) -> None:
    """Offline enrichment: articles in, one enriched JSON line per article out."""
    from pathlib import Path

    from streams.enrich import EnrichConfig
    from streams.tools.enrich_cmd import load_patterns_file, run_enrich

    settings = _settings()
    ruler: list[Any] = []
    wl = Path(watchlist) if watchlist else settings.watchlist
    if watchlist or wl.is_file():
        from streams.watchlist import load_and_compile

        ruler.extend(load_and_compile(wl).entity_patterns())
    if patterns:
        ruler.extend(load_patterns_file(Path(patterns)))
    raise typer.Exit(run_enrich(EnrichConfig.from_settings(settings), source, patterns=ruler))


@watchlist_cli.command("check")
def watchlist_check(
    paths: Annotated[list[str], typer.Argument(help="watch-list YAML file(s)")],
    json_output: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="accept a watch-list without enabled rules")
    ] = False,
) -> None:
    """Validate watch-lists: summaries and exit 0, or FILE:LINE:COL problems and exit 1."""
    from pathlib import Path

    from streams.tools.watchlist_cmd import run_check

    # Several files (as pre-commit passes them): each is checked, exit 1 if any is bad.
    codes = [run_check(Path(p), as_json=json_output, allow_empty=allow_empty) for p in paths]
    raise typer.Exit(max(codes))


@cli.command("match")
def match_articles(
    source: Annotated[
        str, typer.Argument(help="JSONL of raw or enriched articles, a .txt article, or - (stdin)")
    ] = "-",
    watchlist: Annotated[
        str | None, typer.Option(help="watch-list YAML (default: NEWSWATCH_WATCHLIST)")
    ] = None,
    enrich: Annotated[
        bool, typer.Option(help="enrich raw articles like the worker; --no-enrich: naive split")
    ] = True,
) -> None:
    """Offline matching: articles in, one JSON line per (article, rule) match out; exit 0."""
    from pathlib import Path

    from streams.tools.watchlist_cmd import run_match
    from streams.watchlist import compile_watchlist, load_watchlist

    settings = _settings()
    compiled = compile_watchlist(
        load_watchlist(Path(watchlist) if watchlist else settings.watchlist)
    )
    enrich_fn = None
    if enrich:
        from streams.enrich import EnrichConfig, Enricher

        config = EnrichConfig.from_settings(settings)
        enricher = Enricher(config.with_detector_languages(compiled.term_languages()))
        enricher.set_entity_patterns(compiled.entity_patterns())
        enrich_fn = enricher.try_enrich_batch
    raise typer.Exit(run_match(compiled, source, enrich=enrich_fn))


@cli.command("eval")
def eval_corpus(
    corpus: Annotated[str, typer.Option(help="labelled JSONL corpus (see docs/eval.md)")],
    watchlist: Annotated[str, typer.Option(help="watch-list YAML the labels refer to")],
    json_output: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
    errors: Annotated[bool, typer.Option(help="also print each wrong article")] = False,
) -> None:
    """Precision/recall/F1 per rule and language on a labelled corpus, with a naive baseline."""
    from pathlib import Path

    from streams.enrich import EnrichConfig, Enricher
    from streams.tools.eval import run_eval
    from streams.watchlist import compile_watchlist, load_watchlist

    settings = _settings()
    compiled = compile_watchlist(load_watchlist(Path(watchlist)))
    config = EnrichConfig.from_settings(settings).with_detector_languages(compiled.term_languages())
    enricher = Enricher(config)
    enricher.set_entity_patterns(compiled.entity_patterns())
    raise typer.Exit(
        run_eval(
            compiled,
            Path(corpus),
            enricher.try_enrich_batch,
            as_json=json_output,
            show_errors=errors,
        )
    )


@cli.command()
def replay(
    watchlist: Annotated[
        str | None, typer.Option("--watchlist", "-w", help="NEW watch-list to backtest")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="BASELINE watch-list (default: NEWSWATCH_WATCHLIST)")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="from (inclusive): ISO 8601 or relative: 7d, 24h, 90m")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="to (exclusive): ISO 8601 or relative: 1d, 30m")
    ] = None,
    topic: Annotated[
        str, typer.Option(help="topic to read (NEWSWATCH_TOPIC_PREFIX applies)")
    ] = "articles.raw",
    labels: Annotated[
        str | None, typer.Option(help='labels JSONL: {"id", "rule", "relevant": true|false}')
    ] = None,
    labels_from_topic: Annotated[
        bool,
        typer.Option(
            "--labels-from-topic",
            help="labels from the Slack feedback on alerts.feedback (relevant / not relevant)",
        ),
    ] = False,
    report: Annotated[
        str | None, typer.Option(help="HTML report path (default: DATA_DIR/reports/...)")
    ] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="JSON report path (default: next to the HTML)")
    ] = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="offline: JSONL/.txt/.html files or folders"),
    ] = None,
    republish: Annotated[
        bool, typer.Option(help="re-produce the selected articles to articles.raw, replayed")
    ] = False,
    full_scan: Annotated[
        bool, typer.Option(help="read from the first offset, do not seek by time")
    ] = False,
    progress: Annotated[bool, typer.Option(help="progress on stderr")] = True,
    max_items: Annotated[int, typer.Option(help="rows per list in the HTML report")] = 100,
) -> None:
    """Backtest a watch-list over a topic's time range: gained/lost per rule, precision/recall.

    Never sends an alert. --republish re-produces the selected records marked replayed; their
    alerts go to NEWSWATCH_TEST_CHANNEL only.
    """
    from pathlib import Path

    from streams.tools.replay import ReplayOptions, run_replay

    options = ReplayOptions(
        watchlist=Path(watchlist) if watchlist else None,
        baseline=Path(baseline) if baseline else None,
        since=_time_option(since, "--since"),
        until=_time_option(until, "--until"),
        topic=topic,
        labels=Path(labels) if labels else None,
        labels_from_topic=labels_from_topic,
        report=Path(report) if report else None,
        json_path=Path(json_out) if json_out else None,
        inputs=[Path(p) for p in inputs or []],
        republish=republish,
        full_scan=full_scan,
        progress=progress,
        max_items=max_items,
    )
    raise typer.Exit(run_replay(_settings(), options))


@cli.command()
def audit(
    since: Annotated[
        str, typer.Option(help="matches from: ISO 8601 or relative: 24h, 7d, 90m")
    ] = "24h",
    json_out: Annotated[bool, typer.Option("--json", help="print JSON (every match)")] = False,
    html: Annotated[
        str | None, typer.Option(help="also write a self-contained HTML report")
    ] = None,
    grace: Annotated[
        float, typer.Option(help="seconds a match may still be in flight (pending, no defect)")
    ] = 120.0,
    all_rows: Annotated[bool, typer.Option("--all", help="list alerted matches too")] = False,
) -> None:
    """Every match since a time and what became of it: alerted, grouped, throttled, stale,
    dead-lettered. Exits 1 when a match has no outcome at all (a defect)."""
    from pathlib import Path

    from streams.tools.audit import AuditOptions, run_audit

    options = AuditOptions(
        since=_time_option(since, "--since"),
        json_out=json_out,
        html=Path(html) if html else None,
        grace_s=grace,
        all_rows=all_rows,
    )
    raise typer.Exit(run_audit(_settings(), options))


@cli.command()
def sources(
    json_out: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    sort: Annotated[
        str, typer.Option(help="status, source, failures, last_success, last_new_item, items")
    ] = "status",
) -> None:
    """Health of every source: healthy / failing / silent / format changed / low volume.

    Reads DATA_DIR/sources.json (written by `newswatch ingest`: feeds, files, stdin) and
    DATA_DIR/sources.worker.json (written by a worker: what arrived on articles.raw).
    Exits 1 when a source is not healthy."""
    from pathlib import Path

    from streams.tools.sources_cmd import SORT_KEYS, run_sources

    if sort not in SORT_KEYS:
        raise typer.BadParameter(f"one of {', '.join(SORT_KEYS)}", param_hint="--sort")
    raise typer.Exit(run_sources(Path(_settings().data_dir), as_json=json_out, sort=sort))
