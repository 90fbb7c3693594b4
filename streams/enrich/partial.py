"""Partial texts: does an article body look like a teaser rather than the whole article?

Pure. :func:`partial_reason` returns why a text looks truncated, or None:

* ``paywall: '<marker>'``   a "subscribe to read" style marker in the page's language (en de
  fr es it nl pt; English is always checked too), found in the raw or the clean text;
* ``feed summary only``     the producer only had the feed's summary (``text_origin``);
* ``ends with an ellipsis`` the body stops at "…", "..." or "[…]" (a feed or teaser cut);
* ``ends mid-sentence``     the last sentence has 8+ words and no closing punctuation;
* ``teaser length (N chars)`` a fetched HTML page with under ``TEASER_CHARS`` of text.
"""

from __future__ import annotations

import re

__all__ = ["PAYWALL_MARKERS", "TEASER_CHARS", "partial_reason"]

#: A fetched page with less clean text than this is a teaser.
TEASER_CHARS = 150

#: Lower-case phrases that sit where a paywall cuts an article off, per language.
PAYWALL_MARKERS: dict[str, tuple[str, ...]] = {
    "en": (
        "subscribe to read",
        "subscribe to continue reading",
        "subscribe to keep reading",
        "this article is for subscribers",
        "this content is for subscribers",
        "to continue reading, subscribe",
        "already a subscriber? log in",
        "sign in to read the full article",
        "become a member to read",
    ),
    "de": (
        "jetzt abonnieren und weiterlesen",
        "weiterlesen mit",
        "dieser artikel ist nur für abonnenten",
        "exklusiv für abonnenten",
        "lesen sie jetzt weiter mit",
        "um weiterzulesen",
        "bereits abonnent?",
    ),
    "fr": (
        "abonnez-vous pour lire",
        "article réservé aux abonnés",
        "réservé aux abonnés",
        "pour lire la suite",
        "lire la suite de l'article",
        "déjà abonné ?",
    ),
    "es": (
        "suscríbete para seguir leyendo",
        "suscríbete para leer",
        "contenido exclusivo para suscriptores",
        "artículo exclusivo para suscriptores",
        "para seguir leyendo",
        "¿ya eres suscriptor?",
    ),
    "it": (
        "abbonati per leggere",
        "articolo riservato agli abbonati",
        "contenuto riservato agli abbonati",
        "per continuare a leggere",
        "sei già abbonato?",
    ),
    "nl": (
        "abonneer om verder te lezen",
        "lees verder met een abonnement",
        "dit artikel is alleen voor abonnees",
        "alleen voor abonnees",
        "word abonnee",
        "al abonnee?",
    ),
    "pt": (
        "assine para ler",
        "assine para continuar lendo",
        "conteúdo exclusivo para assinantes",
        "exclusivo para assinantes",
        "para continuar a ler",
        "já é assinante?",
    ),
}

_ELLIPSIS = re.compile(r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\])\s*$")
_CLOSING = ".!?。！？…\"'”’»)]:;"
_SPACE = re.compile(r"\s+")


def _marker(text: str, language: str | None) -> str | None:
    folded = _SPACE.sub(" ", text.casefold().replace("’", "'"))
    languages = [language, "en"] if language and language != "en" else ["en"]
    for lang in languages:
        for marker in PAYWALL_MARKERS.get(lang or "", ()):
            if marker in folded:
                return marker
    return None


def _last_sentence_open(text: str) -> bool:
    tail = text.rstrip()
    if not tail or tail[-1] in _CLOSING:
        return False
    last = re.split(r"[.!?。！？]\s+|\n", tail)[-1]
    return len(last.split()) >= 8


def partial_reason(
    clean_text: str,
    *,
    language: str | None,
    raw_text: str = "",
    content_type: str = "text",
    text_origin: str | None = None,
) -> str | None:
    """Why the body looks like a teaser, or None when it looks whole."""
    marker = _marker(raw_text, language) or _marker(clean_text, language)
    if marker is not None:
        return f"paywall: {marker!r}"
    if text_origin == "feed_summary":
        return "feed summary only"
    if _ELLIPSIS.search(clean_text):
        return "ends with an ellipsis"
    if _last_sentence_open(clean_text):
        return "ends mid-sentence"
    if content_type == "html" and len(clean_text.strip()) < TEASER_CHARS:
        return f"teaser length ({len(clean_text.strip())} chars)"
    return None
