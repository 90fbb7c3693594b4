"""``create_app(settings)``: build the Faust app, its tables, agents and web pages.

No module-level app: every worker, test and benchmark calls the factory with its own
settings. The pure stages get their dependencies through ``PipelineServices``; the
``Runtime`` service owns everything with a lifecycle (enricher pool, watch-list reloader,
HTTP client, channels) and starts it before the agents process their first message.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import faust
import mode

from streams.kafka import compat
from streams.pipeline.agents import FaustOutbox, register_agents
from streams.pipeline.runtime import Runtime
from streams.pipeline.stages import PipelineServices, Topics
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
        "topic_allow_declare": True,
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
    }


def create_app(
    settings: Settings, *, bootstrap: str | None = None, runtime: Runtime | None = None
) -> faust.App:
    """A Faust app with the enrich+match and alert agents; ``app.newswatch`` is the runtime."""
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    app = faust.App(settings.app_id, **faust_config(settings, bootstrap))
    app.transport = compat.Transport(app.conf.broker_consumer, app)  # short fetch waits
    topics = Topics(
        **{name: settings.topic(default) for name, default in Topics().__dict__.items()}
    )
    runtime = runtime if runtime is not None else Runtime(settings)
    rt: Runtime = runtime
    outbox = FaustOutbox(app)
    services = PipelineServices(
        topics=topics,
        outbox=outbox,
        enrich_batch=runtime.enrich_batch,
        watchlist=runtime.watchlist,
        match=runtime.match,
        max_record_bytes=settings.max_record_bytes,
        metrics=runtime.metrics,
        test_channel=settings.test_channel,
    )
    runtime.services = services

    # State of the alert agent: co-partitioned with articles.matches (keyed by rule id).
    policy_table = app.Table("alert-policy", default=None, partitions=settings.partitions)
    sent_table = app.Table("alert-sent", default=None, partitions=settings.partitions)
    runtime.bind_state(policy_table, sent_table)

    register_agents(
        app,
        services,
        batch_size=settings.batch_size,
        batch_within_s=settings.batch_within_s,
        ready=runtime.ready,
    )

    class RuntimeService(mode.Service):
        """Starts and stops the runtime with the app."""

        async def on_start(self) -> None:
            await rt.start()

        async def on_stop(self) -> None:
            await rt.stop()

    app.service(RuntimeService)

    async def _assigned(sender: Any, *_: Any, **__: Any) -> None:
        # A previous owner of these partitions may have sent alerts it did not record.
        if rt.deliverer is not None:
            rt.deliverer.note_assignment()

    cast(Any, app.on_partitions_assigned).connect(_assigned)  # faust types it too narrowly

    @app.timer(interval=settings.watchlist_poll_s)
    async def _reload_watchlist() -> None:
        await runtime.poll_watchlist()

    @app.timer(interval=5.0)
    async def _probe_broker() -> None:
        await runtime.check_broker()

    @app.timer(interval=10.0)
    async def _consumer_lag() -> None:
        _record_lag(app, runtime)

    mount(app, runtime.health, runtime.metrics)
    app.newswatch = runtime  # type: ignore[attr-defined]
    return app


def _record_lag(app: faust.App, runtime: Runtime) -> None:
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
