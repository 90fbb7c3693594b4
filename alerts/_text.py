"""Pure helpers that keep untrusted article text inert: escaping, cutting, URL checks."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "ELLIPSIS",
    "cut",
    "html_escape",
    "mrkdwn_escape",
    "one_line",
    "safe_url",
    "strip_controls",
]

ELLIPSIS = "…"

_MRKDWN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
# C0/C1 controls except TAB/LF, DEL, and the bidi overrides/isolates (trojan-source tricks).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,8}$")
_WS = re.compile(r"\s+")
_URL_SAFE = "/:@!$&'()*+,;=-._~%"
_MAX_URL = 2_000


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn gives meaning to (``& < >``).

    After this no ``<!channel>``, ``<@U…>`` or ``<url|label>`` can be formed by the text.
    """
    return text.translate(_MRKDWN)


def html_escape(text: str) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return text.translate(_HTML)


def strip_controls(text: str) -> str:
    """Drop control characters (ANSI escapes, NUL, bidi overrides); keep TAB and LF."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def one_line(text: str) -> str:
    """Controls stripped and every whitespace run collapsed to one space."""
    return _WS.sub(" ", strip_controls(text)).strip()


def cut(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``text`` to at most ``limit`` characters, ending with an ellipsis if cut.

    Never splits an escaped entity (``&amp;``) or a combining sequence in two.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(ellipsis))
    head = text[:keep]
    tail = _ENTITY_TAIL.search(head)
    if tail:  # the cut falls inside "&amp;" (or right after a bare "&"): drop the piece
        head = head[: tail.start()]
    while head and unicodedata.combining(head[-1]):
        head = head[:-1]
    return (head.rstrip() + ellipsis)[:limit]


def safe_url(url: str | None) -> str | None:
    """The URL re-encoded if it is a plain absolute http(s) URL, else ``None``.

    Rejects other schemes (``javascript:``, ``data:``), user-info (``https://a@evil``),
    whitespace and controls; percent-encodes ``| < > " '`` and spaces so the result cannot
    close a Slack link or an HTML attribute.
    """
    if not url or len(url) > _MAX_URL:
        return None
    url = url.strip()
    if _CONTROLS.search(url) or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    if not re.fullmatch(r"[a-z0-9.\-\[\]:]+", host.lower()):
        return None
    host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    netloc = host.lower() + (f":{port}" if port is not None else "")
    return urlunsplit(
        (
            parts.scheme.lower(),
            netloc,
            quote(parts.path, safe=_URL_SAFE),
            quote(parts.query, safe=_URL_SAFE + "?"),
            quote(parts.fragment, safe=_URL_SAFE + "?"),
        )
    )
