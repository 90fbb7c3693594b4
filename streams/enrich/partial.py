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

import functools
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

_ELLIPSES = ("…", "...")
_CLOSING = ".!?。！？…\"'”’»)]:;"
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?。！？]\s+")


@functools.lru_cache(maxsize=1024)
def _words(marker: str) -> tuple[str, ...]:
    """The marker's words, longest first: each must occur in a text that holds the marker."""
    return tuple(sorted(set(marker.split()), key=len, reverse=True))


def _marker(text: str, language: str | None) -> str | None:
    """The first marker of ``language`` (then English) in the whitespace-collapsed text.

    Collapsing the whole text is the expensive part, so it runs only for a marker whose
    words all occur in the text as it is (casefolded): a word holds no whitespace, so it
    occurs in the collapsed text only where it occurs in the text itself.
    """
    lowered = text.casefold().replace("’", "'")
    folded: str | None = None
    seen: dict[str, bool] = {}
    languages = [language, "en"] if language and language != "en" else ["en"]
    for lang in languages:
        for marker in PAYWALL_MARKERS.get(lang or "", ()):
            for word in _words(marker):
                present = seen.get(word)
                if present is None:
                    present = seen[word] = word in lowered
                if not present:
                    break
            else:
                if folded is None:
                    folded = _SPACE.sub(" ", lowered)
                if marker in folded:
                    return marker
    return None


def _ends_with_ellipsis(text: str) -> bool:
    """``…``, ``...``, ``[…]`` or ``[...]`` (spaces allowed inside the brackets) at the end."""
    tail = text.rstrip()
    if tail.endswith(_ELLIPSES):
        return True
    if not tail.endswith("]"):
        return False
    inner = tail[:-1].rstrip()
    if not inner.endswith(_ELLIPSES):
        return False
    return inner[: -1 if inner.endswith("…") else -3].rstrip().endswith("[")


def _last_sentence_open(text: str) -> bool:
    """The last sentence has 8+ words and no closing punctuation (read from the last line)."""
    tail = text.rstrip()
    if not tail or tail[-1] in _CLOSING:
        return False
    line = tail[tail.rfind("\n") + 1 :]
    last = _SENTENCE_END.split(line)[-1]
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
    if _ends_with_ellipsis(clean_text):
        return "ends with an ellipsis"
    if _last_sentence_open(clean_text):
        return "ends mid-sentence"
    if content_type == "html" and len(clean_text.strip()) < TEASER_CHARS:
        return f"teaser length ({len(clean_text.strip())} chars)"
    return None
