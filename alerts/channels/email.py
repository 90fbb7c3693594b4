"""Email channel: multipart (text + HTML) messages over async SMTP (aiosmtplib).

STARTTLS (``starttls``) or implicit TLS (``tls``), optional AUTH. One SMTP session per
message or digest. SMTP 4xx, timeouts and connection errors are retriable; 5xx (including
a refused AUTH or recipient) is permanent. Updates carry ``In-Reply-To``/``References``
to the first message, so mail clients thread them.

With feedback links configured (``SmtpConfig.links``) every recipient gets a message of
their own, rendered with links signed for that address (``alerts.links``); its Message-ID
is the alert's plus a hash of the address. A retry after a partial failure skips the
recipients already served (remembered in memory for the last ``REMEMBERED`` alerts).
"""

from __future__ import annotations

import ssl
from collections import OrderedDict
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib

from alerts._text import one_line
from alerts.channels.base import Channel, Receipt
from alerts.config import SmtpConfig
from alerts.errors import DeliveryError
from alerts.ids import delivery_key, short_hash
from alerts.links import LinkSigner
from alerts.render import Rendered, Renderer
from schemas.records import AlertRecord

__all__ = ["EmailChannel", "build_message", "recipient_message_id"]

#: alerts whose per-recipient progress is remembered (retries skip who got it already)
REMEMBERED = 1_000
_DOMAIN = "@newswatch>"


def recipient_message_id(message_id: str, recipient: str) -> str:
    """The Message-ID of one recipient's copy: ``message_id`` plus a hash of the address."""
    if not message_id.endswith(_DOMAIN):
        return message_id
    return f"{message_id[: -len(_DOMAIN)]}.{short_hash(recipient.casefold(), 8)}{_DOMAIN}"


def build_message(
    *,
    sender: str,
    recipients: list[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """A ``multipart/alternative`` message; header values are single-line, controls removed."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    _set_subject(msg, one_line(subject)[:250] or "(no subject)")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        msg[name] = one_line(value)[:200]
    msg.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """Set ``Subject`` so that every RFC 2047 decoder gets exactly ``subject`` back.

    The standard library's folder can put the space between two words *between* two encoded
    words (where decoders drop it), can emit an empty ``=?utf-8?q??=`` and can fold an ASCII
    subject right after ``Subject:`` (the parsed value then starts with a space). So the
    value is folded here and stored pre-folded (lines of at most 78 characters are never
    refolded): plain ASCII at its spaces; anything else (or a word too long to fold, or text
    containing ``=?``) as RFC 2047 words from ``email.header.Header``, which carry the
    spaces inside them.
    """
    folded = _fold_ascii(subject) if subject.isascii() and "=?" not in subject else None
    if folded is None:
        folded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\n")
    msg.set_raw("Subject", folded)


def _fold_ascii(subject: str, width: int = 78) -> str | None:
    """``subject`` folded at spaces into lines of at most ``width``; None if a word won't fit."""
    lines: list[str] = []
    room = width - len("Subject: ")
    current = ""
    for word in subject.split(" "):
        if current and len(current) + 1 + len(word) > room:
            lines.append(current)
            current, room = word, width - 1
        else:
            current = f"{current} {word}" if current else word
        if len(current) > room:
            return None
    lines.append(current)
    return "\n ".join(lines)


class EmailChannel(Channel):
    """Sends one email per alert; ``submit`` is also used by the digest channel."""

    name = "email"
    fmt = "email"

    def __init__(self, config: SmtpConfig, *, renderer: Renderer | None = None) -> None:
        self.config = config
        self.pacing = config.pacing
        self._tls_context: ssl.SSLContext | None = None
        #: signs the feedback links; None: emails carry no links
        self.signer = LinkSigner.from_config(config.links) if config.links else None
        self.renderer = renderer or Renderer()
        self._served: OrderedDict[str, set[str]] = OrderedDict()

    async def start(self) -> None:
        """Prepare the TLS context (no connection is kept open)."""
        if self.config.tls or self.config.starttls:
            ctx = ssl.create_default_context(
                cafile=str(self.config.ca_file) if self.config.ca_file else None
            )
            if not self.config.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._tls_context = ctx

    def secrets(self) -> list[str]:
        """The SMTP password and the link secrets."""
        links = self.config.links
        found = [self.config.password]
        if links is not None:
            found += [links.secret, links.previous_secret]
        return [s.get_secret_value() for s in found if s is not None]

    def recipients(self, target: str | None) -> list[str]:
        """The addresses of a spec target, else the configured default recipients."""
        if target:
            return [a.strip() for a in target.split(",") if a.strip()]
        return list(self.config.default_to)

    async def send(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        *,
        target: str | None = None,
        thread: str | None = None,
    ) -> Receipt:
        """Send one alert email; the Message-ID is derived from the delivery key."""
        spec = f"email:{target}" if target else "email"
        recipients = self.recipients(target)
        key = delivery_key(alert).replace("/", ".")
        message_id = f"<{key}.{self._hash(recipients)}@newswatch>"
        if self.signer is not None:
            detail = await self._send_each(alert, rendered, recipients, message_id, thread, spec)
            return Receipt(channel=spec, ref=message_id, detail=detail)
        msg = build_message(
            sender=self.config.sender,
            recipients=recipients,
            subject=rendered.subject or alert.rule_title,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            in_reply_to=thread,
            headers={"X-Newswatch-Alert-Id": alert.alert_id, "X-Newswatch-Rule": alert.rule_id},
        )
        detail = await self.submit(msg, recipients, spec=spec)
        return Receipt(channel=spec, ref=message_id, detail=detail)

    async def _send_each(
        self,
        alert: AlertRecord,
        rendered: Rendered,
        recipients: list[str],
        message_id: str,
        thread: str | None,
        spec: str,
    ) -> dict[str, Any]:
        """One message per recipient, each with feedback links signed for that address."""
        assert self.signer is not None
        if not recipients:
            raise DeliveryError(channel=spec, retriable=False, reason="no recipients configured")
        served = self._served.setdefault(message_id, set())
        self._served.move_to_end(message_id)
        while len(self._served) > REMEMBERED:
            self._served.popitem(last=False)
        refused: list[str] = []
        for recipient in recipients:
            if recipient in served:
                continue
            own = self.renderer.render(alert, "email", feedback=self.signer.links(alert, recipient))
            msg = build_message(
                sender=self.config.sender,
                recipients=[recipient],
                subject=rendered.subject or alert.rule_title,
                text=own.text,
                html=own.html,
                message_id=recipient_message_id(message_id, recipient),
                in_reply_to=recipient_message_id(thread, recipient) if thread else None,
                headers={
                    "X-Newswatch-Alert-Id": alert.alert_id,
                    "X-Newswatch-Rule": alert.rule_id,
                },
            )
            try:
                await self.submit(msg, [recipient], spec=spec)
            except DeliveryError as exc:
                if exc.retriable or "recipients refused" not in exc.reason:
                    raise
                refused.append(recipient)  # like a multi-recipient message: others still get it
                if len(refused) == len(recipients):
                    raise
                continue
            served.add(recipient)
        return {"refused": sorted(refused)} if refused else {}

    async def submit(
        self, msg: EmailMessage, recipients: list[str], *, spec: str
    ) -> dict[str, Any]:
        """Hand one message to the SMTP server; ``DeliveryError`` on failure."""
        if not recipients:
            raise DeliveryError(channel=spec, retriable=False, reason="no recipients configured")
        if self._tls_context is None and (self.config.tls or self.config.starttls):
            await self.start()
        cfg = self.config
        kwargs: dict[str, Any] = {
            "hostname": cfg.host,
            "port": cfg.port,
            "sender": cfg.sender,
            "recipients": recipients,
            "timeout": cfg.timeout_s,
            "use_tls": cfg.tls,
            "start_tls": bool(cfg.starttls and not cfg.tls),
        }
        if self._tls_context is not None:
            kwargs["tls_context"] = self._tls_context
        if cfg.user:
            kwargs["username"] = cfg.user
            kwargs["password"] = cfg.password.get_secret_value() if cfg.password else ""
        try:
            refused, _response = await aiosmtplib.send(msg, **kwargs)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            permanent = any(500 <= c < 600 for c in codes)
            raise DeliveryError(
                channel=spec,
                retriable=not permanent,
                reason=f"smtp {max(codes) if codes else '?'}: all recipients refused",
                status=max(codes) if codes else None,
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                channel=spec,
                retriable=400 <= exc.code < 500,
                reason=f"smtp {exc.code}: {one_line(exc.message)[:120]}",
                status=exc.code,
            ) from None
        except (
            aiosmtplib.SMTPConnectError,
            aiosmtplib.SMTPTimeoutError,
            aiosmtplib.SMTPServerDisconnected,
            TimeoutError,
            ConnectionError,
            OSError,
        ) as exc:
            raise DeliveryError(
                channel=spec, retriable=True, reason=f"smtp connection: {type(exc).__name__}"
            ) from None
        except aiosmtplib.SMTPException as exc:  # e.g. STARTTLS/AUTH not supported
            raise DeliveryError(
                channel=spec, retriable=False, reason=f"smtp: {type(exc).__name__}"
            ) from None
        return {"refused": sorted(refused)} if refused else {}

    @staticmethod
    def _hash(recipients: list[str]) -> str:
        return short_hash(",".join(sorted(recipients)), 8)
