"""A queued digest survives a worker crash (issue 12, finding 6: the buffer was in memory).

The digest buffer is a changelog-backed table: a worker SIGKILLed with an unsent digest
restarts, recovers the buffer and sends the digest (real broker, aiosmtpd capture).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fault_support import generate_stream

from alerts.testing.smtp import SmtpCapture
from streams.settings import Settings
from streams.testing import WorkerProcess, produce_values, read_topic, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.broker, pytest.mark.servers]


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    """An SMTP capture server on loopback."""
    with SmtpCapture() as server:
        yield server


def test_unsent_digest_survives_a_sigkill(
    fault_settings: Callable[..., Settings],
    spawn_worker: Callable[..., WorkerProcess],
    smtp: SmtpCapture,
) -> None:
    """Queue a digest, SIGKILL the worker, restart it: the digest email is sent."""
    settings = fault_settings(
        {"r0": ("zorblax", "digest:ops@example.org")},
        alert_channels=["file", "digest"],
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        digest_interval_s=3600.0,
    )
    victim = spawn_worker(settings, name="victim")
    stream = generate_stream(1, every=1, rules=1)
    produce_values(settings.bootstrap_servers, settings.topic("articles.raw"), stream.records)
    changelog = f"{settings.app_id}-alert-digest-changelog"
    queued = read_topic(settings.bootstrap_servers, changelog, expect=1, timeout=90)
    assert queued, victim.log_tail()
    assert smtp.messages == []  # an hour's interval: nothing sent yet
    victim.kill()

    restarted = spawn_worker(settings.model_copy(update={"digest_interval_s": 1.0}), name="again")
    assert wait_until(lambda: len(smtp.messages) == 1, timeout=90), restarted.log_tail()
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["ops@example.org"]
    body = mail.message.get_body(("plain",))
    assert body is not None and "story-00000" in body.get_content()
