"""The alerts package stays pure: no streams, Faust or Kafka imports."""

from __future__ import annotations

import subprocess
import sys


def test_alerts_imports_neither_streams_nor_faust_nor_kafka() -> None:
    """Importing every runtime module of alerts loads no streams/faust/aiokafka module."""
    code = (
        "import sys, alerts, alerts.policy, alerts.render, alerts.deliver, alerts.channels, "
        "alerts.channels.slack, alerts.channels.email, alerts.channels.webhook\n"
        "roots = ('streams', 'faust', 'aiokafka')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in roots)\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
