"""What ``/ready`` asks of Kafka: is the broker reachable, and do the topics we need exist.

``BrokerProbe`` is built once by the composition root from the settings; with TLS/SASL the
reachability check is a real handshake (``security.check_connection``), with plaintext the
light Metadata probe of ``broker.metadata_ok``. Topics are verified only when newswatch must
not create them (``NEWSWATCH_CREATE_TOPICS=false``). No secret ever appears in a detail.
"""

from __future__ import annotations

import asyncio

from streams.kafka.broker import metadata_ok
from streams.kafka.security import KafkaSecurity, check_connection
from streams.kafka.topics import verify_topics
from streams.settings import Settings

__all__ = ["BrokerProbe"]


class BrokerProbe:
    """Reachability and topic checks against the configured cluster."""

    def __init__(self, settings: Settings, bootstrap: str) -> None:
        self._settings = settings
        self.bootstrap = bootstrap
        self.security = KafkaSecurity.from_settings(settings)

    async def reachable(self) -> tuple[bool, str]:
        """``(ok, detail)``: a handshake with TLS/SASL, else a Metadata request (1 s)."""
        if self.security.protocol != "PLAINTEXT":
            try:
                await check_connection(self.security, self.bootstrap, timeout_s=5.0)
            except Exception as exc:  # one line, never a secret (security.py words it)
                return False, str(exc)
            return True, self.bootstrap
        host, _, port = self.bootstrap.split(",")[0].strip().rpartition(":")
        ok = await asyncio.to_thread(metadata_ok, host, int(port), 1.0)
        return ok, self.bootstrap

    async def topic_problems(self) -> list[str] | None:
        """Missing or wrong topics with the command that fixes each; None when we create them."""
        if self._settings.create_topics:
            return None
        try:
            return await verify_topics(self._settings, self.bootstrap)
        except Exception as exc:  # BrokerError: broker unreachable, already one line
            return [str(exc)]
