"""The error tree of the ``alerts`` package.

    AlertError                      base; ``exit_code`` for the CLI, never a traceback
    ├── AlertConfigError            bad channel/template configuration (names the setting)
    │   └── ChannelSpecError        an unparsable channel spec such as ``slack:`` (names it)
    ├── TemplateError               a template does not compile or render (names file:line)
    └── DeliveryError               one channel could not take one alert
        └── RateLimited             HTTP 429 / Slack ``ratelimited``; carries ``retry_after``

``DeliveryError`` carries ``channel`` (the spec, e.g. ``slack:#sec``), ``retriable`` and a
short ``reason`` (an error code such as ``channel_not_found`` or ``smtp 550``). Reasons never
contain a token or password: channels build them from error codes, and the deliverer
redacts every configured secret again before it logs or dead-letters anything.

``alerts`` does not import ``streams``; the CLI maps ``AlertError`` like its own errors.
"""

from __future__ import annotations

__all__ = [
    "AlertConfigError",
    "AlertError",
    "ChannelSpecError",
    "DeliveryError",
    "RateLimited",
    "TemplateError",
]


class AlertError(Exception):
    """Base class of every error the alerts package raises on purpose."""

    exit_code: int = 1
    retriable: bool = False


class AlertConfigError(AlertError):
    """Channel, SMTP, Slack or template configuration is invalid."""

    exit_code = 2


class ChannelSpecError(AlertConfigError):
    """A channel spec (``kind[:target]``) cannot be parsed."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(f"channel spec {spec!r}: {message}")
        self.spec = spec


class TemplateError(AlertError):
    """A template failed to compile or render; names the template and the line."""

    def __init__(self, template: str, message: str, *, line: int | None = None) -> None:
        where = f"{template}:{line}" if line else template
        super().__init__(f"{where}: {message}")
        self.template = template
        self.line = line
        self.message = message


class DeliveryError(AlertError):
    """A channel refused or failed one alert.

    ``retriable`` says whether the same send may succeed later (5xx, timeout, 4xx SMTP);
    permanent errors (``invalid_auth``, ``channel_not_found``, SMTP 5xx) go to the DLQ.
    """

    def __init__(
        self,
        *,
        channel: str,
        retriable: bool,
        reason: str,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{channel}: {reason}")
        self.channel = channel
        self.retriable = retriable
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


class RateLimited(DeliveryError):
    """The channel asked us to slow down (HTTP 429); ``retry_after`` seconds, if given."""

    def __init__(
        self, *, channel: str, reason: str = "ratelimited", retry_after: float | None = None
    ) -> None:
        super().__init__(
            channel=channel, retriable=True, reason=reason, retry_after=retry_after, status=429
        )
