"""Alert policy (story grouping, throttle), Jinja rendering and delivery to channels.

Pure logic: imports ``schemas`` but never ``streams``, Faust or aiokafka. The worker wires
``AlertPolicy`` (state: a Faust table) → ``Deliverer`` (sent: a Faust table, dead letters:
``alerts.dlq``); ``newswatch demo`` and tests use dicts.
"""

from alerts.config import (
    ChannelsConfig,
    DeliveryConfig,
    FileConfig,
    PolicyConfig,
    RetryConfig,
    SlackConfig,
    SmtpConfig,
    WebhookConfig,
)
from alerts.errors import (
    AlertConfigError,
    AlertError,
    ChannelSpecError,
    DeliveryError,
    RateLimited,
    TemplateError,
)
from alerts.ids import alert_id_for, delivery_key

__all__ = [
    "AlertConfigError",
    "AlertError",
    "ChannelSpecError",
    "ChannelsConfig",
    "DeliveryConfig",
    "DeliveryError",
    "FileConfig",
    "PolicyConfig",
    "RateLimited",
    "RetryConfig",
    "SlackConfig",
    "SmtpConfig",
    "TemplateError",
    "WebhookConfig",
    "alert_id_for",
    "delivery_key",
]
