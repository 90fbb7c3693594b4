"""Run a Faust worker for ``newswatch worker`` / ``run`` / ``demo`` in this process.

The worker owns its event loop (Faust's ``Worker``); topics are created before it starts
so the broker never auto-creates them with the wrong partition count.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import logging.config
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from streams.settings import Settings

if TYPE_CHECKING:
    from streams.enrich import EnrichConfig
    from streams.enrich.language import LanguageIdentifier

__all__ = [
    "load_language_models_while_joining",
    "prepare_topics",
    "run_all",
    "run_worker",
    "start_worker",
    "stop_worker_soon",
    "warm_up_language_detector",
]

log = logging.getLogger(__name__)


def prepare_topics(settings: Settings, bootstrap: str | None = None) -> None:
    """Wait for the broker and create newswatch's topics (in a short-lived loop)."""
    from streams.kafka.broker import wait_for_broker
    from streams.kafka.security import KafkaSecurity
    from streams.kafka.topics import ensure_topics

    security = KafkaSecurity.from_settings(settings)  # a wrong setting fails here, one line
    wait_for_broker(bootstrap or settings.bootstrap_servers, security=security)
    asyncio.run(ensure_topics(settings, bootstrap))
    asyncio.set_event_loop(asyncio.new_event_loop())


def stop_worker_soon() -> None:
    """Ask the running worker to shut down gracefully (as Ctrl-C/SIGTERM would)."""
    os.kill(os.getpid(), signal.SIGTERM)


def warm_up_language_detector(config: EnrichConfig, *, workers: int = 1) -> None:
    """Load the language detector's models now, one language at a time (thread mode).

    lingua loads its models in Rust holding the GIL (9 s for a whole set measured on a busy
    2-core host). Loaded in one go in the enricher thread after start-up, that froze the
    event loop and mode's consumer-thread keepalive logged "[ERROR] Thread keepalive is not
    responding" on every start; in small steps, no thread waits more than ~0.3 s.
    The detector is cached per process, keyed by its languages, so ``config`` must be the
    enricher's own. Process mode detects in child processes: no-op.
    """
    detector = _language_identifier(config, workers)
    if detector is not None:
        detector.warm_up()


def load_language_models_while_joining(app: Any, config: EnrichConfig, *, workers: int = 1) -> None:
    """Load the detector's models while the worker waits to join its consumer group.

    The broker holds the first JoinGroup for seconds (Tansu: half the session timeout;
    Kafka: ``group.initial.rebalance.delay.ms``) while nothing else in the worker needs the
    GIL, so a background thread loads the models then, in small steps (``on_partitions_revoked``
    is sent just before the join request; the thread starts a moment later, once the request
    is out). The enricher's warm-up (``AsyncEnricher.start``, before the worker reports
    ready or reads an article) waits for that thread.
    """
    detector = _language_identifier(config, workers)
    if detector is None:
        return

    async def _start(*_: Any, **__: Any) -> None:
        detector.start_warm_up(delay=_JOIN_REQUEST_GRACE_S)

    app.on_partitions_revoked.connect(_start)


_JOIN_REQUEST_GRACE_S = 0.2


def _language_identifier(config: EnrichConfig, workers: int) -> LanguageIdentifier | None:
    if workers > 1:
        return None
    from streams.enrich.language import LanguageIdentifier

    return LanguageIdentifier(
        config.detected_languages(), sample_chars=config.language_sample_chars
    )


def start_worker(
    settings: Settings,
    *,
    bootstrap: str | None = None,
    task: Callable[[Any], Awaitable[None]] | None = None,
) -> int:
    """Build the app, run a Faust worker until it stops; ``task(app)`` runs once it is ready."""
    from streams.kafka.faust_typed import task as faust_task
    from streams.logs import logging_config
    from streams.pipeline.app import create_app

    config = logging_config(json_logs=settings.log_json, level=settings.log_level)
    logging.config.dictConfig(config)  # before create_app: it logs the watch-list version
    # `kill -QUIT <pid>` writes every thread's stack to stderr (even with the event loop
    # blocked): what a stuck worker is doing. `kill -USR1` logs every asyncio task's stack
    # (mode) and the consumer's partitions and offsets (see _worker_class).
    faulthandler.register(signal.SIGQUIT, all_threads=True)
    app = create_app(settings, bootstrap=bootstrap)
    built = app.newswatch  # type: ignore[attr-defined]
    load_language_models_while_joining(
        app, built.enricher.config, workers=built.config.enrich.workers
    )
    if task is not None:

        @faust_task(app)
        async def _run_task() -> None:
            await app.newswatch.ready.wait()  # type: ignore[attr-defined]
            await task(app)

    worker = _worker_class()(
        app,
        logging_config=config,
        loglevel=settings.log_level.upper(),
        quiet=True,
        redirect_stdouts=False,
        override_logging=True,
    )
    worker.spinner = None  # no cursor escape codes on stdout: it carries the console alerts
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def _worker_class() -> type[Any]:
    import faust

    class Worker(faust.Worker):  # type: ignore[misc]
        """Faust's worker; SIGUSR1 also logs the consumer's state next to the task stacks."""

        def _on_sigusr1(self) -> None:
            from streams.kafka.diagnostics import (
                describe_consumer,
                describe_generators,
                describe_memory,
            )

            app = self.app
            log.warning(
                "SIGUSR1: %s\n%s\n%s",
                describe_consumer(app),
                describe_generators(app),
                describe_memory(),
            )
            super()._on_sigusr1()

    return Worker


def run_worker(settings: Settings) -> int:
    """``newswatch worker``: one worker of the consumer group ``NEWSWATCH_APP_ID``."""
    prepare_topics(settings)
    return start_worker(settings)


def run_all(settings: Settings, *, feeds: list[str]) -> int:
    """``newswatch run``: embedded broker (unless external) + worker + feed polling."""
    from streams.kafka.broker import maybe_embedded_broker

    with maybe_embedded_broker(settings) as bootstrap:
        prepare_topics(settings, bootstrap)
        print(f"newswatch: broker {bootstrap}; worker starting (Ctrl-C stops)", file=sys.stderr)
        task = _feed_task(settings, bootstrap, feeds) if feeds else None
        return start_worker(settings, bootstrap=bootstrap, task=task)


def _feed_task(
    settings: Settings, bootstrap: str, feeds: list[str]
) -> Callable[[Any], Awaitable[None]]:
    async def poll(app: Any) -> None:
        from streams.ingest.producer import ArticleProducer, poll_feeds

        async with ArticleProducer(settings, bootstrap) as producer:
            worker = getattr(app, "newswatch", None)
            sink = worker.metrics.sources_health if worker is not None else None
            await poll_feeds(settings, producer, feeds, follow=True, on_health=sink)

    return poll
