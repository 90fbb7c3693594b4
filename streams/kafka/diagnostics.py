"""What a running worker's consumer and streams are doing, for ``kill -USR1`` (a stall).

Reads Faust's and aiokafka's private state of the tested versions (``compat.TESTED_VERSIONS``);
the worker writes these descriptions to its log next to mode's task dump
(``streams.pipeline.runner``).
"""

from __future__ import annotations

import contextlib
import gc
import inspect
from collections import Counter
from typing import Any

from aiokafka import TopicPartition

__all__ = ["describe_consumer", "describe_generators", "describe_memory"]


def describe_consumer(app: Any) -> str:
    """What a worker's consumer is doing now, one line per stream partition (for a stall).

    Assigned, active (fetched), paused and buffer-full partitions, flow control, per
    partition the offsets read, committed, expected next and the broker's high-water mark,
    and each agent stream's queue length. Written to the log on SIGUSR1 with the tasks.
    """
    consumer = app.consumer
    try:
        assigned = sorted(consumer.assignment())
    except Exception as exc:  # not started / stopping
        return f"consumer state unavailable: {exc!r}"
    active = consumer._active_partitions or set()
    paused = consumer._paused_partitions
    buffered = consumer._buffered_partitions
    expected = consumer.__dict__.get("_next_offset", {})
    changelogs = app.tables.changelog_topics
    lines = [
        f"consumer: flow_active={consumer.flow_active} flow_control="
        f"{'open' if app.flow_control.is_active() else 'suspended'} in_recovery="
        f"{app.in_recovery} rebalancing={app.rebalancing} assigned={len(assigned)}"
    ]
    for tp in assigned:
        if tp.topic in changelogs:
            continue
        try:
            high = consumer.highwater(tp)
        except Exception:
            high = None
        lines.append(
            f"  {tp.topic}[{tp.partition}] active={tp in active} paused={tp in paused} "
            f"buffer_full={tp in buffered} read={consumer._read_offset.get(tp)} "
            f"committed={consumer._committed_offset.get(tp)} expected={expected.get(tp)} "
            f"highwater={high} kafka: {_client_view(consumer, tp)}"
        )
    for agent in app.agents.values():
        for actor in getattr(agent, "_actors", ()):
            stream = getattr(actor, "stream", None)
            queue = getattr(getattr(stream, "channel", None), "queue", None)
            if queue is not None:
                pending = len(getattr(queue, "_pending_pressure_drop_callbacks", ()))
                lines.append(
                    f"  agent {agent.name}: queue={queue.qsize()}/{queue.maxsize} "
                    f"pressure_callbacks={pending}"
                )
    return "\n".join(lines)


def describe_generators(app: Any) -> str:
    """Where each agent's buffering generator and each suspended generator waits.

    mode's task dump stops at the first ``async for``; this shows the line a ``take_events``
    generator (tracked by its stream) or any other live async generator of Faust or ours
    is suspended at, with the few locals that tell a stall apart. Frozen objects
    (``gc.freeze`` after warm-up) are not in ``gc.get_objects``, hence the streams.
    """
    found: list[Any] = [
        agen
        for agent in app.agents.values()
        for actor in getattr(agent, "_actors", ())
        for agen in list(getattr(getattr(actor, "stream", None), "_active_agens", ()))
    ]
    found += [obj for obj in gc.get_objects() if inspect.isasyncgen(obj)]
    lines = ["async generators:"]
    seen: set[int] = set()
    for agen in found:
        frame = agen.ag_frame
        if frame is None or id(agen) in seen:
            continue
        seen.add(id(agen))
        where = frame.f_code.co_filename
        if "faust/" not in where and "streams/" not in where:
            continue
        state = {
            name: (len(value) if isinstance(value, list) else value)
            for name, value in frame.f_locals.items()
            if name in {"buffer", "buffer_full", "buffer_consumed", "buffer_consuming"}
        }
        lines.append(
            f"  {frame.f_code.co_qualname} line {frame.f_lineno} running={agen.ag_running} "
            f"await={agen.ag_await!r:.120} {state!r:.400}"
        )
    return "\n".join(lines)


def _client_view(consumer: Any, tp: Any) -> str:
    """The aiokafka client's own state of ``tp``: position, pause, reset, buffered records."""
    try:
        client = consumer._thread._ensure_consumer()
        ktp = TopicPartition(tp.topic, tp.partition)
        state = client._subscription.subscription.assignment.state_value(ktp)
        buffered = client._fetcher._records.get(ktp)
        return (
            f"position={state._position} paused={state.paused} status={state._status} "
            f"reset={state._reset_strategy} buffered={buffered is not None}"
        )
    except Exception as exc:
        return f"unavailable ({exc!r})"


def describe_memory(top: int = 15) -> str:
    """RSS and the most numerous object types the cyclic GC tracks (objects frozen by
    ``gc.freeze`` at warm-up or after a pipeline rebuild are not listed; strings never are)."""
    rss = "?"
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        rss = next(
            (line.split(":", 1)[1].strip() for line in status if line.startswith("VmRSS")), rss
        )
    counts: Counter[str] = Counter(_type_name(type(obj)) for obj in gc.get_objects())
    listed = ", ".join(f"{name}={n}" for name, n in counts.most_common(top))
    return (
        f"memory: rss {rss}, gc-tracked {sum(counts.values())} (frozen {gc.get_freeze_count()}),"
        f" most numerous: {listed}"
    )


def _type_name(kind: type) -> str:
    # some extension types expose descriptors, not strings, as __module__ / __qualname__
    module, name = getattr(kind, "__module__", "?"), getattr(kind, "__qualname__", kind.__name__)
    return f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else repr(kind)
