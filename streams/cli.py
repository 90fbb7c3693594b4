"""The ``newswatch`` command line: the only place that wires settings, app and stages.

Every command parses settings once (``Settings.load``), imports what it needs lazily (so
``newswatch watchlist check`` does not pay for Faust or spaCy), and turns every newswatch
error into a one-line message and a non-zero exit code: a user never sees a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from alerts.errors import AlertError
from streams.errors import NewswatchError

__all__ = ["main"]

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


# --------------------------------------------------------------------------- broker & worker


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


@bench_cli.command("enrich")
def bench_enrich(
    articles: Annotated[int, typer.Option(help="articles per throughput run")] = 300,
    words: Annotated[int, typer.Option(help="words per article")] = 500,
    quick: Annotated[bool, typer.Option(help="smaller runs (smoke test)")] = False,
) -> None:
    """Enrichment throughput, memory and big-article latency; JSON on stdout."""
    from streams.tools.bench.enrich import run_bench_enrich

    settings = _settings()
    raise typer.Exit(run_bench_enrich(settings, articles=articles, words=words, quick=quick))


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


@bench_cli.command("extract")
def bench_extract(
    corpus: Annotated[
        str, typer.Option(help="folder of NAME.html + NAME.txt, or ground-truth.json")
    ],
    worst: Annotated[int, typer.Option(help="also list the N pages with the lowest precision")] = 0,
) -> None:
    """Body extraction vs gold bodies: mean token precision/recall; JSON."""
    from pathlib import Path

    from streams.tools.bench.extract import run_bench_extract

    raise typer.Exit(run_bench_extract(Path(corpus), worst=worst))


@bench_cli.command("match")
def bench_match(
    rules: Annotated[str, typer.Option(help="comma-separated rule counts")] = "10,1000,10000",
    articles: Annotated[int, typer.Option(help="distinct articles in the corpus")] = 200,
    seconds: Annotated[float, typer.Option(help="minimum time per measurement")] = 2.0,
    phrasematcher: Annotated[bool, typer.Option(help="also time spaCy's PhraseMatcher")] = True,
    user: Annotated[
        bool,
        typer.Option(help="also time `newswatch match` (enrichment on) and a hot reload"),
    ] = True,
    user_articles: Annotated[
        int, typer.Option(help="articles for the `newswatch match` runs")
    ] = 400,
    regex_worst_case: Annotated[
        bool, typer.Option(help="instead: time catastrophic regexes on 100 KB adversarial text")
    ] = False,
) -> None:
    """Matcher throughput vs a naive regex-per-rule loop and spaCy's PhraseMatcher; JSON."""
    if regex_worst_case:
        from streams.tools.bench.regex_worst import run_regex_worst_case

        raise typer.Exit(run_regex_worst_case())
    from streams.tools.bench.match import run_bench_match

    counts = [int(n) for n in rules.split(",") if n.strip()]
    raise typer.Exit(
        run_bench_match(
            counts,
            articles=articles,
            seconds=seconds,
            phrasematcher=phrasematcher,
            user=user,
            user_articles=user_articles,
        )
    )


def _time_option(value: str | None, name: str):  # type: ignore[no-untyped-def]
    from streams.tools.timeparse import TimeParseError, parse_time

    if value is None:
        return None
    try:
        return parse_time(value)
    except TimeParseError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


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


@bench_cli.command("replay")
def bench_replay(
    articles: Annotated[int, typer.Option(help="articles in the corpus")] = 2000,
    report_articles: Annotated[
        int, typer.Option(help="articles for the report render/size measurement")
    ] = 10_000,
    repeat: Annotated[int, typer.Option(help="interleaved runs; the best of each counts")] = 3,
) -> None:
    """Replay throughput vs offline `newswatch match`, report render time and size; JSON."""
    from streams.tools.replay.bench import run_bench_replay

    raise typer.Exit(
        run_bench_replay(
            _settings(), articles=articles, report_articles=report_articles, repeat=repeat
        )
    )


@bench_cli.command("broker")
def bench_broker(
    stored: Annotated[
        str, typer.Option(help="comma-separated stored record counts")
    ] = "1000,10000,100000",
    partitions: Annotated[int, typer.Option(help="partitions of the benchmark topic")] = 4,
    rate: Annotated[float, typer.Option(help="produce+fetch per second while measuring")] = 30.0,
    seconds: Annotated[float, typer.Option(help="measuring time per size")] = 10.0,
    record_bytes: Annotated[int, typer.Option(help="bytes per record")] = 3000,
    batch: Annotated[int, typer.Option(help="records per stored batch when filling")] = 1,
) -> None:
    """Embedded broker: fetch latency and broker CPU by records stored in the topic; JSON."""
    from streams.tools.bench.broker import BrokerBenchOptions, run_bench_broker

    try:
        sizes = [int(n) for n in stored.split(",") if n.strip()]
    except ValueError:
        raise typer.BadParameter("comma-separated counts", param_hint="--stored") from None
    if not sizes or min(sizes) < 0:
        raise typer.BadParameter("comma-separated counts >= 0", param_hint="--stored")
    for name, value in (
        ("--partitions", partitions),
        ("--record-bytes", record_bytes),
        ("--batch", batch),
    ):
        if value < 1:
            raise typer.BadParameter("must be at least 1", param_hint=name)
    if rate <= 0 or seconds <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--rate/--seconds")
    options = BrokerBenchOptions(
        stored=sizes,
        partitions=partitions,
        rate=rate,
        seconds=seconds,
        record_bytes=record_bytes,
        batch=batch,
    )
    raise typer.Exit(run_bench_broker(_settings(), options))


@bench_cli.command("e2e")
def bench_e2e(
    rate: Annotated[str, typer.Option(help="articles/s, or 'max' to find the limit")] = "20",
    count: Annotated[int, typer.Option(help="articles per measured phase")] = 3000,
    workers: Annotated[
        str,
        typer.Option(
            help="worker processes (one consumer group); a list such as 1,2 runs each count "
            "and compares articles per CPU-second"
        ),
    ] = "1",
    rules: Annotated[int, typer.Option(help="rules in the generated watch-list")] = 1000,
    partitions: Annotated[
        int | None, typer.Option(help="partitions per topic (default NEWSWATCH_PARTITIONS)")
    ] = None,
    match_share: Annotated[float, typer.Option(help="share of articles that match a rule")] = 0.1,
    words: Annotated[int, typer.Option(help="approximate words per article body")] = 300,
    channels: Annotated[int, typer.Option(help="Slack channels the rules post to")] = 50,
    warmup: Annotated[int | None, typer.Option(help="warm-up articles (default: auto)")] = None,
    window: Annotated[
        str, typer.Option(help="story and rule-limit window of the rules (soak: e.g. 5m)")
    ] = "6h",
    keep: Annotated[
        str | None, typer.Option(help="keep watch-list, logs and data in this folder")
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(help="py-spy profile of worker 0 while measuring: .svg, .json or .txt"),
    ] = None,
) -> None:
    """End to end: articles in at a rate; throughput, produce→Slack latency, RSS, lag; JSON."""
    from pathlib import Path

    from streams.tools.bench.e2e import E2EOptions, run_bench_e2e

    if rate.strip().lower() == "max":
        chosen: float | None = None
    else:
        try:
            chosen = float(rate)
        except ValueError:
            raise typer.BadParameter("articles/s or 'max'", param_hint="--rate") from None
        if chosen <= 0:
            raise typer.BadParameter("must be > 0", param_hint="--rate")
    try:
        counts = [int(n) for n in workers.split(",") if n.strip()]
    except ValueError:
        raise typer.BadParameter("a count or a list such as 1,2", param_hint="--workers") from None
    if not counts or min(counts) < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--workers")
    for name, value in (
        ("--count", count),
        ("--rules", rules),
        ("--channels", channels),
        ("--words", words),
    ):
        if value < 1:
            raise typer.BadParameter("must be at least 1", param_hint=name)
    if not 0.0 <= match_share <= 1.0:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--match-share")
    from schemas.watchlist import duration_seconds

    try:
        duration_seconds(window)
    except ValueError:
        raise typer.BadParameter(
            "a duration such as 300, 5m or 6h", param_hint="--window"
        ) from None
    options = E2EOptions(
        rate=chosen,
        count=count,
        workers=counts[0],
        rules=rules,
        partitions=partitions,
        match_share=match_share,
        words=words,
        channels=channels,
        warmup=warmup,
        window=window,
        keep_dir=Path(keep) if keep else None,
        profile=Path(profile) if profile else None,
    )
    if len(counts) > 1:
        from streams.tools.bench.e2e_scale import run_bench_e2e_scale

        raise typer.Exit(run_bench_e2e_scale(_settings(), options, counts))
    raise typer.Exit(run_bench_e2e(_settings(), options))


# --------------------------------------------------------------------------- silences


@silence_cli.command("add")
def silence_add(
    rule: Annotated[str, typer.Option("--rule", help="rule id to snooze (or whose story to mute)")],
    duration: Annotated[str, typer.Option("--for", help="how long: 30m, 24h, 7d")],
    reason: Annotated[str, typer.Option(help="why (shown by `silence list`)")] = "",
    story: Annotated[
        str | None, typer.Option(help="mute only this story of the rule (story id of an alert)")
    ] = None,
) -> None:
    """Snooze a rule (or mute one story): its alerts are recorded as silenced, not delivered."""
    from streams.tools.silence_cmd import add_silence, format_silence

    silence = add_silence(_settings(), rule=rule, duration=duration, reason=reason, story=story)
    print(format_silence(silence, silence.created_at))


@silence_cli.command("list")
def silence_list(
    include_expired: Annotated[bool, typer.Option("--all", help="expired ones too")] = False,
) -> None:
    """List the active silences (id, target, end, who, why)."""
    from streams.tools.silence_cmd import list_silences

    lines = list_silences(_settings(), include_expired=include_expired)
    print("\n".join(lines) if lines else "no silences")


@silence_cli.command("expire")
def silence_expire(
    silence_id: Annotated[str, typer.Argument(help="silence id (from `silence list`)")],
) -> None:
    """End a silence now: the next alerts of its rule or story are delivered again."""
    from streams.tools.silence_cmd import expire_silence, format_silence

    ended = expire_silence(_settings(), silence_id)
    print(format_silence(ended, ended.ends_at))


# --------------------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, mapping newswatch errors to exit codes."""
    try:
        cli(args=argv, prog_name="newswatch", standalone_mode=True)
    except (NewswatchError, AlertError) as exc:
        print(f"newswatch: error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":  # pragma: no cover
    main()
