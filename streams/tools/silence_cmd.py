"""``newswatch silence add|list|expire``: silences for operators, as records on ``alerts.silences``.

Each command talks to the broker only: ``add`` produces a new silence, ``expire`` re-produces
an existing one ending now, ``list`` reads the whole topic (the latest record of each id).
Every worker follows the topic, so a silence added here holds on all of them within a poll.
"""

from __future__ import annotations

import asyncio
import getpass
import time
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from alerts.silences import SilenceBook, new_silence, parse_duration
from schemas.records import Silence
from streams.errors import BrokerError, ConfigError
from streams.kafka.codec import dumps
from streams.kafka.follow import read_whole_topic
from streams.kafka.security import KafkaSecurity
from streams.kafka.topics import ensure_topics
from streams.settings import Settings

__all__ = ["add_silence", "expire_silence", "format_silence", "list_silences"]


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_silence(silence: Silence, now: float) -> str:
    """One line: id, state, what it silences, until when, who, why."""
    state = "active" if silence.starts_at <= now < silence.ends_at else "expired"
    target = f"rule {silence.rule_id}"
    if silence.kind == "story":
        target = f"story {silence.story_id} of rule {silence.rule_id}"
    return (
        f"{silence.id}  {state:<7}  {target}  until {_when(silence.ends_at)}  "
        f"by {silence.created_by or '-'}  {silence.reason!r}"
    )


async def _produce(settings: Settings, silence: Silence) -> None:
    try:
        await _send(settings, silence)
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"cannot produce to {settings.topics.silences}: {exc}") from None


async def _send(settings: Settings, silence: Silence) -> None:
    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        **KafkaSecurity.from_settings(settings).client_kwargs(),
    )
    try:
        await producer.start()
    except BaseException:
        await producer.stop()  # a half-started client holds sockets (ResourceWarning)
        raise
    try:
        await producer.send_and_wait(
            settings.topics.silences, dumps(silence), key=silence.id.encode()
        )
    finally:
        await producer.stop()


async def _book(settings: Settings) -> SilenceBook:
    try:
        return await _read_book(settings)
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"cannot read {settings.topics.silences}: {exc}") from None


async def _read_book(settings: Settings) -> SilenceBook:
    records = await read_whole_topic(
        settings.bootstrap_servers,
        settings.topics.silences,
        client=KafkaSecurity.from_settings(settings).client_kwargs(),
        timeout=15.0,
    )
    book = SilenceBook()
    for _key, value in records:
        if value is not None:
            try:
                book.apply(Silence.model_validate_json(value))
            except ValueError:
                continue
    return book


def add_silence(
    settings: Settings,
    *,
    rule: str,
    duration: str,
    reason: str,
    story: str | None = None,
    by: str | None = None,
) -> Silence:
    """Produce a new rule snooze (or story mute with ``story``) lasting ``duration``."""
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise ConfigError(f"--for: {exc}") from None
    silence = new_silence(
        rule_id=rule,
        story_id=story,
        duration_s=seconds,
        reason=reason,
        created_by=by or f"cli:{getpass.getuser()}",
    )
    asyncio.run(_produce(settings, silence))
    return silence


def list_silences(settings: Settings, *, include_expired: bool = False) -> list[str]:
    """The silences on the topic as lines (active ones only unless ``include_expired``)."""
    book = asyncio.run(_book(settings))
    now = time.time()
    chosen = book.all() if include_expired else book.active(now)
    return [format_silence(s, now) for s in chosen]


def expire_silence(settings: Settings, silence_id: str) -> Silence:
    """End silence ``silence_id`` now (re-produced with ``ends_at = now``)."""
    book = asyncio.run(_book(settings))
    silence = book.get(silence_id)
    if silence is None:
        raise ConfigError(f"no silence {silence_id!r} on {settings.topics.silences}")
    now = time.time()
    ended = silence.model_copy(update={"ends_at": min(silence.ends_at, now)})
    asyncio.run(_produce(settings, ended))
    return ended
