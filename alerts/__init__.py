"""Alert policy (story grouping, throttle), Jinja rendering and delivery to channels.

Pure logic: imports ``schemas`` but never ``streams``, Faust or aiokafka. The pipeline calls
the facade in ``alerts.service`` only: ``AlertDecider.decide(event)`` (stories, throttle,
staleness, replay namespace and routing over ``AlertPolicy``; state: a Faust table) and
``AlertSender.deliver(alert, lane)`` (over ``Deliverer``; sent-state: a Faust table, dead
letters: ``alerts.dlq``). Tools and tests use dicts.
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
