"""Signed feedback links in alert emails: *Relevant*, *Not relevant*, *Mute story* (pure).

A link is ``<public URL>/email/feedback?t=<token>``. The token is::

    v1.<key id>.<payload>.<signature>

``payload`` is the base64url (unpadded) of a compact JSON array ``[action, alert id, rule
id, article id, story id, watch-list version, recipient, expires at]``; ``signature`` the
base64url of HMAC-SHA256 over ``"newswatch-email-link.v1.<key id>.<payload>"`` with the
link secret. The key id is derived from the secret (the first 8 hex digits of a SHA-256
of it, which says nothing about the secret), so a verifier that holds the current and the
previous secret picks the right one: rotating the secret keeps links already mailed valid
for as long as the previous secret is kept.

Nothing from the article is in a link: only ids, inside the signed payload, base64url
encoded (the URL alphabet needs no escaping) and put in the query with ``urlencode``.
Verification checks the signature with ``hmac.compare_digest`` before it reads the
payload, then the expiry: :class:`LinkError` says ``malformed``, ``forged`` or ``expired``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args
from urllib.parse import urlencode, urlsplit

from alerts.config import LinkConfig
from schemas.records import AlertRecord

__all__ = [
    "FEEDBACK_PATH",
    "LINK_ACTIONS",
    "LinkAction",
    "LinkClaims",
    "LinkError",
    "LinkSigner",
    "key_id",
]

FEEDBACK_PATH = "/email/feedback"
LinkAction = Literal["relevant", "not_relevant", "mute_story"]
LINK_ACTIONS: tuple[LinkAction, ...] = get_args(LinkAction)
VERSION = "v1"
#: longer tokens are refused before any work (ids are at most 512 characters each)
MAX_TOKEN = 8_192
_CONTEXT = b"newswatch-email-link"


class LinkError(ValueError):
    """A token that is not accepted; ``reason``: malformed, forged or expired."""

    def __init__(self, reason: Literal["malformed", "forged", "expired"]) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    """What a token says: which judgement of which alert, by whom, valid until when."""

    action: LinkAction
    alert_id: str
    rule_id: str
    article_id: str
    story_id: str
    watchlist_version: str
    recipient: str
    expires_at: int

    def payload(self) -> bytes:
        """The canonical JSON array that is signed."""
        fields = [
            self.action,
            self.alert_id,
            self.rule_id,
            self.article_id,
            self.story_id,
            self.watchlist_version,
            self.recipient,
            self.expires_at,
        ]
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    @classmethod
    def from_payload(cls, data: bytes) -> LinkClaims:
        """The claims of a (verified) payload; ``LinkError("malformed")`` if not ours."""
        try:
            fields = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise LinkError("malformed") from None
        if not isinstance(fields, list) or len(fields) != 8:
            raise LinkError("malformed")
        *texts, expires = fields
        if not all(isinstance(t, str) for t in texts) or type(expires) is not int:
            raise LinkError("malformed")
        action, alert, rule, article, story, version, recipient = texts
        if action not in LINK_ACTIONS or not (alert and rule and article):
            raise LinkError("malformed")
        return cls(action, alert, rule, article, story, version, recipient, expires)


def key_id(secret: str) -> str:
    """A short public name of ``secret`` (8 hex digits of a SHA-256 over a fixed context)."""
    return hashlib.sha256(_CONTEXT + b"-key-id:" + secret.encode("utf-8")).hexdigest()[:8]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or not text.isascii():
        raise LinkError("malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkError("malformed") from None


class LinkSigner:
    """Signs and verifies feedback link tokens; builds the three links of an alert email."""

    def __init__(
        self,
        secret: str,
        *,
        base_url: str,
        ttl_s: float,
        previous: Sequence[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("the link secret is empty")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the public URL must be an http(s) URL with a host")
        self.base_url = base_url.rstrip("/")
        self.ttl_s = ttl_s
        self.clock = clock
        self._kid = key_id(secret)
        self._keys = {key_id(s): s.encode("utf-8") for s in [*previous, secret] if s}

    @classmethod
    def from_config(cls, config: LinkConfig) -> LinkSigner:
        """The signer of ``SmtpConfig.links`` / ``WebView.email_links``."""
        previous = config.previous_secret
        return cls(
            config.secret.get_secret_value(),
            base_url=config.base_url,
            ttl_s=config.ttl_s,
            previous=[previous.get_secret_value()] if previous else [],
        )

    def _mac(self, kid: str, payload: str) -> bytes:
        message = b".".join((_CONTEXT, VERSION.encode(), kid.encode(), payload.encode()))
        return hmac.new(self._keys[kid], message, hashlib.sha256).digest()

    def token(self, claims: LinkClaims) -> str:
        """The signed token of ``claims`` (current key)."""
        payload = _b64(claims.payload())
        return f"{VERSION}.{self._kid}.{payload}.{_b64(self._mac(self._kid, payload))}"

    def verify(self, token: str, now: float | None = None) -> LinkClaims:
        """The claims of a valid, unexpired token; ``LinkError`` otherwise."""
        if not token or len(token) > MAX_TOKEN or not token.isascii():
            raise LinkError("malformed")
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != VERSION:
            raise LinkError("malformed")
        _version, kid, payload, signature = parts
        if kid not in self._keys:  # signed with a secret we do not hold (or made up)
            raise LinkError("forged")
        # compared as text: base64 has spare bits, so two strings can decode alike and a
        # token must have exactly one spelling (a replayed link is recognised by its text)
        expected = _b64(self._mac(kid, payload))
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise LinkError("forged")
        claims = LinkClaims.from_payload(_unb64(payload))
        if claims.expires_at <= (self.clock() if now is None else now):
            raise LinkError("expired")
        return claims

    def claims(
        self, alert: AlertRecord, action: LinkAction, recipient: str, now: float | None = None
    ) -> LinkClaims:
        """The claims of one link of ``alert`` for ``recipient``, expiring after the TTL."""
        start = self.clock() if now is None else now
        return LinkClaims(
            action=action,
            alert_id=alert.alert_id,
            rule_id=alert.rule_id,
            article_id=alert.article.id,
            story_id=alert.story_id,
            watchlist_version=alert.watchlist_version,
            recipient=recipient,
            expires_at=int(start + self.ttl_s),
        )

    def url(self, token: str) -> str:
        """The link of ``token`` on the public URL."""
        return f"{self.base_url}{FEEDBACK_PATH}?{urlencode({'t': token})}"

    def links(self, alert: AlertRecord, recipient: str, now: float | None = None) -> dict[str, str]:
        """``{action: URL}`` of the three feedback links of ``alert`` for ``recipient``."""
        return {
            action: self.url(self.token(self.claims(alert, action, recipient, now)))
            for action in LINK_ACTIONS
        }
