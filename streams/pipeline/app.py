"""``create_app(settings)``: build the Faust app, its tables, agents and web pages.

No module-level app: every worker, test and benchmark calls the factory with its own
settings. The services come from the composition root (``root.build_worker``) with the
app's tables as alert state and the app's producer as outbox; the ``Worker`` starts what
has a lifecycle before the agents process their first message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from pathlib import Path
from typing import Any, cast

import faust
import mode

from streams.enrich.nlp import trim_heap
from streams.kafka import compat
from streams.kafka.faust_typed import timer
from streams.kafka.security import KafkaSecurity
from streams.pipeline import email_feedback
from streams.pipeline.agents import FaustOutbox, register_agents
from streams.pipeline.arrivals import ARRIVAL_GAUGES, SOURCE_CHECK_S, SourceArrivals
from streams.pipeline.interactions import INTERACTIONS_PATH, MAX_BODY, SlackInteractions
from streams.pipeline.root import AlertState, Worker, build_worker
from streams.pipeline.web import mount
from streams.settings import Settings

__all__ = ["create_app", "faust_config"]

log = logging.getLogger(__name__)


def faust_config(settings: Settings, bootstrap: str | None = None) -> dict[str, Any]:
    """Faust settings derived from newswatch settings (at-least-once, no idempotence by default)."""
    data_dir = Path(settings.data_dir)
    session = settings.session_timeout_s
    return {
        "broker": f"kafka://{bootstrap or settings.bootstrap_servers}",
        "store": "memory://",
        "datadir": str(data_dir / "faust"),
        "topic_partitions": settings.partitions,
        "topic_replication_factor": settings.replication_factor,
        "topic_allow_declare": settings.create_topics,
        "processing_guarantee": "exactly_once" if settings.exactly_once else "at_least_once",
        "producer_acks": -1,
        "producer_max_request_size": max(settings.max_record_bytes * 8, 1_048_576),
        "consumer_max_fetch_size": max(settings.max_record_bytes * 8, 4_194_304),
        "consumer_auto_offset_reset": "earliest",
        "broker_session_timeout": session,
        "broker_heartbeat_interval": max(0.5, session / 6),
        "broker_rebalance_timeout": session,
        "broker_commit_every": 100,
        "broker_commit_interval": 1.0,
        # The memory store persists no offsets, so this check only compares standby/active
        # read positions with ListOffsets; the embedded broker answers ListOffsets(latest)
        # with the last batch's base offset + 1, so after reading a multi-record batch the
        # check fails and crashes the worker in a rebalance (found by tests/faults).
        "recovery_consistency_check": False,
        "stream_buffer_maxsize": 1024,
        "table_cleanup_interval": 30.0,
        "web_enabled": settings.web_port != 0,
        "web_port": settings.web_port or 6066,
        "web_bind": settings.web_host,
        "web_host": settings.web_host,
        "autodiscover": False,
        "worker_redirect_stdouts": False,
        "key_serializer": "json",  # tables; our topics set "raw" explicitly
        "value_serializer": "json",
        "TableManager": compat.TableManager,  # no fixed 1 s pause before tables register
        # TLS/SASL for every Faust client (consumer, producer, changelogs, topic creation)
        **KafkaSecurity.from_settings(settings).faust_kwargs(),
    }


def create_app(settings: Settings, *, bootstrap: str | None = None) -> faust.App:
    """A Faust app with the enrich+match, decide and deliver agents; ``app.newswatch`` is the
    built ``Worker``."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(settings.app_id, **faust_config(settings, bootstrap))
    app.transport = compat.Transport(app.conf.broker_consumer, app)  # short fetch waits
    # Decide state is co-partitioned with articles.matches (keyed by rule id); sent-state and
    # the digest buffer with alerts (keyed by alert id): writes land on the current event's
    # changelog partition.
    state = AlertState(
        policy=app.Table("alert-policy", default=None, partitions=settings.partitions),
        sent=app.Table("alert-sent", default=None, partitions=settings.partitions),
        # Written also by the digest flush task (outside stream iteration): the key decides
        # the changelog partition. A restart recovers unsent digests from the changelog.
        digest=app.Table(
            "alert-digest", default=None, partitions=settings.partitions, use_partitioner=True
        ),
    )
    outbox = FaustOutbox(app)
    worker = build_worker(
        settings, outbox=outbox, state=state, bootstrap=bootstrap, follow_silences=True
    )
    wk: Worker = worker
    config = worker.config
    register_agents(
        app,
        worker.services,
        batch_size=config.kafka.batch_size,
        batch_within_s=config.kafka.batch_within_s,
        ready=worker.ready,
    )

    arrivals = SourceArrivals.from_settings(
        settings,
        outbox.send,
        bootstrap=worker.probe.bootstrap,
        client=worker.probe.security.client_kwargs(),
        on_rows=functools.partial(worker.metrics.sources_health, only=ARRIVAL_GAUGES),
    )

    class WorkerService(mode.Service):
        """Starts and stops the worker's services with the app."""

        async def on_start(self) -> None:
            await wk.start()
            await arrivals.start()

        async def on_stop(self) -> None:
            await arrivals.stop()
            await wk.stop()

    app.service(WorkerService)

    async def _assigned(sender: Any, *_: Any, **__: Any) -> None:
        # A previous owner of these partitions may have sent alerts it did not record.
        wk.deliverer.note_assignment()

    cast(Any, app.on_partitions_assigned).connect(_assigned)  # faust types it too narrowly

    @timer(app, interval=config.watchlist.poll_s)
    async def _reload_watchlist() -> None:
        await wk.poll_watchlist()

    @timer(app, interval=5.0)
    async def _probe_broker() -> None:
        await wk.check_broker()

    @timer(app, interval=10.0)
    async def _consumer_lag() -> None:
        _record_lag(app, wk)

    @timer(app, interval=SOURCE_CHECK_S)
    async def _source_health() -> None:
        await arrivals.check(outbox.flush)

    if config.enrich.heap_trim_s > 0:

        @timer(app, interval=config.enrich.heap_trim_s)
        async def _trim_heap() -> None:
            # alert state and vocabularies turn over; without this the freed pages stay
            # with the process and RSS creeps (issue 15, target 4)
            started = time.perf_counter()
            await asyncio.to_thread(trim_heap)
            log.debug("heap trimmed in %.1f ms", 1000 * (time.perf_counter() - started))

    mount(app, worker.health, worker.metrics)
    if worker.interactions is not None:
        _mount_interactions(app, worker.interactions)
    if worker.email_feedback is not None:
        _mount_email_feedback(app, worker.email_feedback)
    app.newswatch = worker  # type: ignore[attr-defined]
    app.newswatch_arrivals = arrivals  # type: ignore[attr-defined]
    return app


def _record_lag(app: faust.App, runtime: Worker) -> None:
    """Consumer lag per assigned partition (highwater - committed position) into metrics."""
    consumer = app.consumer
    assigned = consumer.assignment()
    for tp in assigned:
        highwater = consumer.highwater(tp)
        position = (
            consumer._committed_offset.get(tp) if hasattr(consumer, "_committed_offset") else None
        )
        if highwater is not None and position is not None:
            runtime.metrics.set_consumer_lag(
                tp.topic, tp.partition, max(0, highwater - position - 1)
            )
    runtime.metrics.retain_partitions((tp.topic, tp.partition) for tp in assigned)


def _mount_interactions(app: faust.App, handler: SlackInteractions) -> None:
    """``POST /slack/interactions`` (body read up to ``MAX_BODY`` + 1 bytes, then refused)."""
    from faust.web import View

    async def post(view: Any, request: Any) -> Any:
        length = request.content_length
        body: bytes | None = None
        if length is None or length <= MAX_BODY:
            body = await request.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                body = None
        response = handler.handle(request.headers, body)
        return view.bytes(
            response.body, status=response.status, headers={"Content-Type": response.content_type}
        )

    view = type("NewswatchSlackInteractions", (View,), {"post": post, "__doc__": "POST only"})
    app.page(INTERACTIONS_PATH, name="newswatch_slack_interactions")(view)


async def _read_body(request: Any, limit: int) -> bytes | None:
    """The request body, or None when it is longer than ``limit`` bytes."""
    length = request.content_length
    if length is not None and length > limit:
        return None
    body: bytes = await request.content.read(limit + 1)
    return None if len(body) > limit else body


def _mount_email_feedback(app: faust.App, handler: email_feedback.EmailFeedback) -> None:
    """``GET`` (confirm page) and ``POST`` (record) ``/email/feedback?t=TOKEN``."""
    from faust.web import View

    def reply(view: Any, response: Any) -> Any:
        headers = {"Content-Type": response.content_type, **dict(response.headers)}
        return view.bytes(response.body, status=response.status, headers=headers)

    async def get(view: Any, request: Any) -> Any:
        return reply(view, handler.show(request.query.get("t")))

    async def post(view: Any, request: Any) -> Any:
        body = await _read_body(request, email_feedback.MAX_BODY)
        return reply(view, await handler.confirm(body, request.query.get("t")))

    view = type(
        "NewswatchEmailFeedback", (View,), {"get": get, "post": post, "__doc__": "GET, POST"}
    )
    app.page(email_feedback.FEEDBACK_PATH, name="newswatch_email_feedback")(view)
