"""Deterministic identifiers: alert ids and delivery keys (pure)."""

from __future__ import annotations

import hashlib

from schemas.records import AlertRecord

__all__ = ["alert_id_for", "delivery_key", "short_hash"]


def short_hash(text: str, n: int = 16) -> str:
    """The first ``n`` hex digits of the SHA-256 of ``text``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def alert_id_for(rule_id: str, story_id: str) -> str:
    """The deterministic alert id: a hash of rule id and story id."""
    return short_hash(f"{rule_id}\x00{story_id}", 32)


def delivery_key(alert: AlertRecord) -> str:
    """What the deliverer records as sent: the alert id, plus the new reports for updates.

    A ``new`` alert and each of its updates are delivered once each; replaying the same
    update (same related article ids) gives the same key and is skipped.
    """
    if alert.kind == "new":
        return alert.alert_id
    return f"{alert.alert_id}/{short_hash('|'.join(r.id for r in alert.related), 12)}"
