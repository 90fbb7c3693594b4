"""Benchmarks (`newswatch bench ...`); each prints its results as JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from streams.cli._app import _settings, bench_cli

__all__ = [
    "bench_broker",
    "bench_e2e",
    "bench_enrich",
    "bench_extract",
    "bench_match",
    "bench_replay",
]


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
    rotate: Annotated[
        int,
        typer.Option(
            help="rotate the topic past this many records (0 = never); sizes "
            "are then records produced"
        ),
    ] = 0,
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
    if rotate < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--rotate")
    options = BrokerBenchOptions(
        rotate=rotate,
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
    idle: Annotated[
        float, typer.Option(help="seconds without articles after warm-up: each worker's idle CPU")
    ] = 5.0,
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
    if idle < 0:
        raise typer.BadParameter("must be at least 0", param_hint="--idle")
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
        idle_s=idle,
        window=window,
        keep_dir=Path(keep) if keep else None,
        profile=Path(profile) if profile else None,
    )
    if len(counts) > 1:
        from streams.tools.bench.e2e_scale import run_bench_e2e_scale

        raise typer.Exit(run_bench_e2e_scale(_settings(), options, counts))
    raise typer.Exit(run_bench_e2e(_settings(), options))
