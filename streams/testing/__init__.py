"""Test doubles and harnesses shipped as code: worker subprocesses and topic readers.

Used by the test-suite, ``newswatch bench e2e`` and anyone who wants to drive a real
pipeline from Python: ``WorkerProcess`` runs ``newswatch worker`` in a child process (exactly
what a user runs) and waits for its ``/ready`` endpoint; ``read_topic`` drains a topic
(``read_present``: what it holds now).

    _processes   WorkerProcess, settings_env, kafka_security_env
    _kafka       read_topic / read_present / produce_values (and async forms), group_lag,
                 MemoryOutbox
    _slack       FlakySlack (FakeSlack with faults), SlackThread (served on loopback)
    _files       term_watchlist, local_watchlist, write_text_atomic, wait_until,
                 web_json, scrape_metrics, metric_value
"""

from streams.testing._files import (
    local_watchlist,
    metric_value,
    scrape_metrics,
    term_watchlist,
    wait_until,
    web_json,
    write_text_atomic,
)
from streams.testing._kafka import (
    MemoryOutbox,
    agroup_lag,
    aproduce_values,
    aread_topic,
    group_lag,
    produce_values,
    read_present,
    read_topic,
)
from streams.testing._processes import WorkerProcess, kafka_security_env, settings_env
from streams.testing._slack import FlakySlack, SlackThread

__all__ = [
    "FlakySlack",
    "MemoryOutbox",
    "SlackThread",
    "WorkerProcess",
    "agroup_lag",
    "aproduce_values",
    "aread_topic",
    "group_lag",
    "kafka_security_env",
    "local_watchlist",
    "metric_value",
    "produce_values",
    "read_present",
    "read_topic",
    "scrape_metrics",
    "settings_env",
    "term_watchlist",
    "wait_until",
    "web_json",
    "write_text_atomic",
]
