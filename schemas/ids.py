"""Stable article ids and canonical URLs: part of the contract (topic keys are these ids)."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["article_id", "canonical_url", "normalize_text", "page_key"]

#: Query parameters that identify a campaign or a click, never the page (one list for ids and
#: story grouping).
_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|ref|ref_src|igshid|cmpid|ocid)$", re.I
)
_SPACE = re.compile(r"\s+")


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments and tracking parameters."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    return urlunsplit((scheme, host, path, query, ""))


def page_key(url: str | None) -> str | None:
    """The page a URL names, for story grouping: ``canonical_url`` without scheme and ``www.``.

    ``http``/``https``, ``www.``, ``?utm_source=…``, ``#comments`` and a trailing slash do not
    matter; anything that is not an http(s) URL with a host gives ``None``.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        canon = canonical_url(url)
    except ValueError:
        return None
    rest = canon.split("://", 1)[1].removeprefix("www.")
    host, _, path = rest.partition("/")
    path, _, query = path.partition("?")
    key = host + ("/" + path if path else "")
    return f"{key}?{query}" if query else key


def normalize_text(text: str) -> str:
    """NFKC, casefold and collapse whitespace: the form hashed for text-based ids."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def article_id(*, url: str | None = None, title: str = "", text: str = "") -> str:
    """Hash of the canonical URL when there is one, else of normalized title + body."""
    basis = (
        f"url:{canonical_url(url)}"
        if url
        else f"text:{normalize_text(title)}\n{normalize_text(text)}"
    )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
