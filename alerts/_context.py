"""The template context: an AlertRecord as plain dicts of cleaned, pre-cut strings.

Everything a template sees is plain data (dicts, lists, str, int, bool); untrusted strings
have controls stripped and are cut to sane lengths here, and are escaped for the output
format by the renderer's environment. ``article.url`` is a validated http(s) URL or None
(None also when percent-encoding makes it longer than ``MAX_LINK``: a cut link would point
elsewhere). For Slack (``inert=True``) article text also has its formatting characters
(``* _ ~ ` ``) replaced by look-alikes, so only the template's own markup formats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from alerts._text import cut, inert_mrkdwn, link_url, one_line, safe_url
from schemas.records import AlertRecord, ArticleRef, Evidence

__all__ = ["SEVERITY_EMOJI", "alert_context", "digest_context", "sample_alert"]

SEVERITY_EMOJI = {
    "critical": ":red_circle:",
    "high": ":large_orange_circle:",
    "medium": ":large_yellow_circle:",
    "low": ":white_circle:",
}
_TITLE = 300
_SNIPPET = 600
_MAX_EVIDENCE = 8


def _same(text: str) -> str:
    return text


def _article(ref: ArticleRef, inert: Callable[[str], str] = _same) -> dict[str, Any]:
    full = safe_url(ref.url)
    return {
        "id": one_line(ref.id)[:200],
        "title": inert(cut(one_line(ref.title), _TITLE) or "(untitled)"),
        "url": link_url(ref.url),
        "host": urlsplit(full).hostname if full else None,
        "source": inert(cut(one_line(ref.source), 100)) if ref.source else None,
        "published_at": ref.published_at.isoformat(timespec="minutes")
        if ref.published_at
        else None,
        "language": one_line(ref.language)[:16] if ref.language else None,
        "replayed": ref.replayed,
        "partial": inert(cut(one_line(ref.partial_text), 120)) if ref.partial_text else None,
    }


def _parts(snippet: str, surfaces: list[str]) -> list[dict[str, Any]]:
    """Split a snippet into plain and hit parts (case-insensitive, overlaps merged)."""
    folded = snippet.casefold()
    spans: list[tuple[int, int]] = []
    for surface in {s.strip() for s in surfaces if s.strip()}:
        needle = surface.casefold()
        if len(needle) != len(surface):  # casefold changed the length: exact match only
            needle, haystack = surface, snippet
        else:
            haystack = folded
        start = haystack.find(needle)
        while start != -1:
            spans.append((start, start + len(needle)))
            start = haystack.find(needle, start + len(needle))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    parts, pos = [], 0
    for s, e in merged:
        if s > pos:
            parts.append({"text": snippet[pos:s], "hit": False})
        parts.append({"text": snippet[s:e], "hit": True})
        pos = e
    if pos < len(snippet):
        parts.append({"text": snippet[pos:], "hit": False})
    return parts


def _evidence(
    items: list[Evidence], inert: Callable[[str], str] = _same
) -> tuple[list[dict[str, Any]], int]:
    """One entry per matched sentence, its hits highlighted; returns (entries, cut count)."""
    groups: dict[str, dict[str, Any]] = {}
    for ev in items:
        snippet = cut(one_line(ev.snippet or ev.surface), _SNIPPET)
        key = f"{ev.sentence}:{snippet}" if ev.sentence >= 0 else snippet
        group = groups.setdefault(key, {"snippet": snippet, "surfaces": [], "conditions": []})
        group["surfaces"].append(one_line(ev.surface))
        condition = one_line(ev.condition)[:120]
        if condition not in group["conditions"]:
            group["conditions"].append(condition)
    entries = [
        {
            "snippet": inert(g["snippet"]),
            "parts": [
                {"text": inert(p["text"]), "hit": p["hit"]}
                for p in _parts(g["snippet"], g["surfaces"])
            ],
            "conditions": inert(", ".join(g["conditions"])),
            "terms": sorted({inert(s) for s in g["surfaces"]}),
        }
        for g in groups.values()
    ]
    return entries[:_MAX_EVIDENCE], max(0, len(entries) - _MAX_EVIDENCE)


def alert_context(alert: AlertRecord, *, mrkdwn: bool = False) -> dict[str, Any]:
    """The variables every alert template gets: ``alert``, ``article``, ``evidence``…

    ``mrkdwn=True`` (Slack) makes formatting characters in article text inert.
    """
    inert = inert_mrkdwn if mrkdwn else _same
    evidence, more = _evidence(alert.evidence, inert)
    created = datetime.fromtimestamp(alert.created_at, tz=UTC)
    return {
        "alert": {
            "id": alert.alert_id,
            "kind": alert.kind,
            "rule_id": one_line(alert.rule_id)[:200],
            "rule_title": cut(one_line(alert.rule_title), 200),
            "severity": alert.severity,
            "severity_label": alert.severity.upper(),
            "emoji": SEVERITY_EMOJI.get(alert.severity, ":white_circle:"),
            "story_id": alert.story_id,
            "created_at": created.isoformat(timespec="seconds"),
            "watchlist_version": one_line(alert.watchlist_version)[:64],
        },
        "article": _article(alert.article, inert),
        "related": [_article(r, inert) for r in alert.related[:20]],
        "evidence": evidence,
        "more_evidence": more,
    }


def digest_context(alerts: list[AlertRecord]) -> dict[str, Any]:
    """The variables of the digest templates: ``items`` (alert contexts), ``count``."""
    items = [alert_context(a) for a in alerts]
    return {"items": items, "count": len(items), "first": items[0] if items else None}


def sample_alert() -> AlertRecord:
    """A complete alert used to validate templates at start-up (every field set)."""
    article = ArticleRef(
        id="sample-1",
        title="Sample <title> & text",
        url="https://example.com/news/1?a=1&b=2",
        source="Example News",
        published_at=datetime(2024, 1, 1, 12, 0, tzinfo=UTC),
        language="en",
    )
    evidence = [
        Evidence(
            condition="entity:sample",
            term="Sample",
            surface="Sample",
            start=0,
            end=6,
            sentence=0,
            paragraph=0,
            snippet="Sample sentence with a match.",
        )
    ]
    return AlertRecord(
        alert_id="0" * 32,
        kind="update",
        rule_id="sample-rule",
        rule_title="Sample rule",
        severity="high",
        story_id="0" * 20,
        article=article,
        evidence=evidence,
        related=[article.model_copy(update={"id": "sample-2", "source": None})],
        channels=["console"],
        watchlist_version="sample",
        created_at=1_700_000_000.0,
    )
