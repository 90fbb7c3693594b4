"""What delivery did: counters by channel kind, and each alert's outcome per channel spec."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from alerts.channels.base import Receipt

__all__ = ["DeliveryReport", "DeliveryStats"]


@dataclass
class DeliveryStats:
    """Counters by channel kind, ready to export as Prometheus metrics."""

    sent: Counter[str] = field(default_factory=Counter)
    queued: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    dead_letter_errors: Counter[str] = field(default_factory=Counter)
    unconfigured: Counter[str] = field(default_factory=Counter)
    reconciled: Counter[str] = field(default_factory=Counter)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Plain dict copy: counter name → channel kind → value."""
        return {name: dict(getattr(self, name)) for name in self.__dataclass_fields__}


@dataclass
class DeliveryReport:
    """What happened to one alert on each of its channel specs.

    ``outcomes``: spec → ``sent`` | ``queued`` | ``skipped`` (already sent) |
    ``reconciled`` (found already sent in the channel) | ``dead_lettered`` | ``unconfigured``.
    """

    alert_id: str
    delivery_key: str
    outcomes: dict[str, str] = field(default_factory=dict)
    receipts: dict[str, Receipt] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if no spec was dead-lettered."""
        return "dead_lettered" not in self.outcomes.values()
