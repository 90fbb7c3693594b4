"""Pure helpers that keep untrusted article text inert: escaping, cutting, URL checks."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = [
    "ELLIPSIS",
    "MAX_LINK",
    "cut",
    "cut_mrkdwn",
    "html_escape",
    "inert_mrkdwn",
    "link_url",
    "mrkdwn_escape",
    "one_line",
    "safe_url",
    "strip_controls",
    "webhook_text",
]

ELLIPSIS = "…"

_MRKDWN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"})
# C0/C1 controls except TAB/LF, DEL, the bidi marks/overrides/isolates (trojan-source tricks)
# and the invisible format characters (Unicode category Cf) that hide or reorder text: soft
# hyphen, Arabic letter mark, Mongolian vowel separator, zero-width space, word joiner and
# invisible operators, deprecated format controls, BOM/ZWNBSP, interlinear annotations,
# shorthand/musical format controls, tag characters; plus the invisible Hangul fillers.
# Kept: ZWNJ/ZWJ (U+200C/D), which Persian, Indic scripts and emoji sequences need.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u061c\u115f\u1160\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
_LINE_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x85": "\n"})
# Slack mrkdwn formatting characters → look-alikes that Slack never treats as markup:
# * → U+2217 ∗, _ → U+02CD ˍ, ~ → U+223C ∼, ` → U+02CB ˋ (see docs/alerts-rendering.md).
_INERT = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})
# Broadcast mentions that Mattermost (and Slack with link_names) expand from plain text.
_BROADCAST = re.compile(r"@(?=(?:channel|here|all|everyone)\b)", re.IGNORECASE)
_OPEN_LINK = re.compile(r"<[^<>]*$")
_ENTITY_TAIL = re.compile(r"&[#a-zA-Z0-9]{0,8}$")
_WS = re.compile(r"\s+")
_URL_SAFE = "/:@!$&'()*+,;=-._~%"
_MAX_URL = 2_000
#: Longest link (after percent-encoding) a message carries; longer ones are dropped.
MAX_LINK = 2_000


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn gives meaning to (``& < >``).

    After this no ``<!channel>``, ``<@U…>`` or ``<url|label>`` can be formed by the text.
    """
    return text.translate(_MRKDWN)


def inert_mrkdwn(text: str) -> str:
    """Replace Slack's formatting characters (``* _ ~ ` ``) by look-alikes that never format.

    Slack mrkdwn has no escape for them; applied to untrusted text only (never to URLs).
    """
    return text.translate(_INERT)


def webhook_text(text: str) -> str:
    """Text for a Slack-/Mattermost-compatible incoming webhook's ``text`` field.

    mrkdwn-escaped (no ``<!channel>``, ``<@U…>`` or ``<url|…>``), formatting characters made
    inert, and ``@channel``/``@here``/``@all``/``@everyone`` broken by a word joiner (U+2060).
    """
    return _BROADCAST.sub("@\u2060", inert_mrkdwn(mrkdwn_escape(strip_controls(text))))


def html_escape(text: str) -> str:
    """Escape text for HTML element content and quoted attribute values."""
    return text.translate(_HTML)


def strip_controls(text: str) -> str:
    """Drop control characters (ANSI escapes, NUL, bidi overrides); keep TAB and LF."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_SEPARATORS)
    return _CONTROLS.sub("", text)


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
    return _finish(text[: max(0, limit - len(ellipsis))], limit, ellipsis)


def _finish(head: str, limit: int, ellipsis: str) -> str:
    tail = _ENTITY_TAIL.search(head)
    if tail:  # the cut falls inside "&amp;" (or right after a bare "&"): drop the piece
        head = head[: tail.start()]
    while head and unicodedata.combining(head[-1]):
        head = head[:-1]
    return (head.rstrip() + ellipsis)[:limit]


def cut_mrkdwn(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """Like :func:`cut`, for Slack mrkdwn: never ends inside a ``<link|label>`` or mention.

    Article text arrives with ``<`` escaped, so every ``<`` is a link the template made; a
    cut that would fall inside one moves to just before it.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    head = text[: max(0, limit - len(ellipsis))]
    opened = _OPEN_LINK.search(head)
    if opened:
        head = head[: opened.start()]
    return _finish(head, limit, ellipsis)


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


def link_url(url: str | None) -> str | None:
    """:func:`safe_url`, or ``None`` when the encoded URL is longer than :data:`MAX_LINK`.

    A cut URL would point somewhere else, so an over-long one is dropped, never shortened.
    """
    encoded = safe_url(url)
    return encoded if encoded is not None and len(encoded) <= MAX_LINK else None
