"""URL canonicalisation for story grouping (pure)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

__all__ = ["canonical_url", "source_key"]

_TRACKING = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ref", "ref_src", "igshid"}


def canonical_url(url: str | None) -> str | None:
    """``host/path?query`` with scheme, ``www.``, fragment and tracking parameters dropped.

    Two URLs of the same page (``http`` vs ``https``, ``?utm_source=…``, ``#comments``,
    trailing slash) give the same string; anything that is not http(s) gives ``None``.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    host = host.removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING
    ]
    path = parts.path.rstrip("/") or ""
    canon = host + path
    if query:
        canon += "?" + urlencode(sorted(query))
    return canon


def source_key(source: str | None, url: str | None) -> str | None:
    """Who published an article: the ``source`` field, else the URL host (casefolded)."""
    if source and source.strip():
        return source.strip().casefold()
    canon = canonical_url(url)
    return canon.split("/", 1)[0] if canon else None
