"""The article as one document for matching: title + clean text, scope units, scan views."""

from __future__ import annotations

import re
from bisect import bisect_right
from urllib.parse import urlsplit

from schemas.records import EnrichedArticle, Span
from streams.watchlist.confusables import native_scripts, needs_skeleton, skeleton, skeleton_chars
from streams.watchlist.langs import article_language
from streams.watchlist.regex import ByteMap
from streams.watchlist.scripts import UNCERTAIN_BELOW
from streams.watchlist.segment import split_paragraphs, split_sentences, tokens
from streams.watchlist.text import NormText, normalize, normalize_text, sentinelize

__all__ = ["SEP", "Doc", "Hit"]

SEP = "\n\n"
_CONFUSABLE = re.compile("[" + re.escape("".join(sorted(skeleton_chars()))) + "]")


class Hit:
    """One occurrence of a condition's term, in document offsets (units filled lazily)."""

    __slots__ = ("cond", "end", "entity", "para", "sent", "start", "term", "tok")

    def __init__(self, cond: str, term: str, start: int, end: int, entity: str | None) -> None:
        self.cond = cond
        self.term = term
        self.start = start
        self.end = end
        self.entity = entity
        self.para = -1
        self.sent = -1
        self.tok = -1


class Doc:
    """Title + clean text as one document, with scope units in document offsets."""

    def __init__(self, enriched: EnrichedArticle, *, skeleton_view: bool = False) -> None:
        title = enriched.article.title or ""
        body = enriched.clean_text or ""
        paragraphs = enriched.paragraphs or split_paragraphs(body)
        sentences = enriched.sentences or split_sentences(body, paragraphs)
        if title.strip() and not _title_is_first_paragraph(title, body, paragraphs):
            self.title = title  # not part of clean_text: prepend it as a virtual paragraph
        else:
            self.title = title = ""
        self.body = body
        self.offset = len(title) + len(SEP) if title else 0
        self.text = (title + SEP + body) if title else body
        off = self.offset
        # unit lists: (doc start, doc end, record index); the title is unit 0 with index -1
        self.paras: list[tuple[int, int, int]] = [(0, len(title), -1)] if title else []
        # sorted by start, so that bisect works even on a hand-made record
        self.paras += sorted((p.start + off, p.end + off, i) for i, p in enumerate(paragraphs))
        self.sents: list[tuple[int, int, int]] = [(0, len(title), -1)] if title else []
        self.sents += sorted((s.start + off, s.end + off, i) for i, s in enumerate(sentences))
        self.sent_para = [sentences[i].paragraph if i >= 0 else -1 for _, _, i in self.sents]
        self.para_starts = [u[0] for u in self.paras]
        self.sent_starts = [u[0] for u in self.sents]
        self.lang = article_language(enriched.language)
        #: language gating (see ``scripts``): other languages' terms need a script of the
        #: article; verbatim only when the detection is confident
        self.confident = enriched.language_confidence >= UNCERTAIN_BELOW
        self.scripts: frozenset[str] | None = None
        self.source = (enriched.article.source or "").lower()
        host = ""
        if enriched.article.url:
            try:
                host = (urlsplit(enriched.article.url).hostname or "").lower()
            except ValueError:
                host = ""
        self.host = host
        self._token_starts: list[int] | None = None
        size = len(body)
        lemmas = [
            (lm.start + off, lm.end + off, lm.lemma)
            for lm in enriched.lemmas
            if 0 <= lm.start < lm.end <= size
        ]
        lemmas.sort()
        self.views: list[NormText] = [normalize_text(self.text)]
        if lemmas:
            self.views.append(normalize_text(self.text, lemmas))
        # entity aliases also match on the confusables skeleton (same length: same offsets)
        self.skeleton = -1
        if skeleton_view and _CONFUSABLE.search(self.text):
            self.native = native_scripts(self.text, self.lang)
            if needs_skeleton(self.text, self.native):
                self.skeleton = len(self.views)
                self.views.append(normalize_text(skeleton(self.text)))
        self.scans = [sentinelize(v.text) for v in self.views]
        self.bytemap: ByteMap | None = None
        self.model_entities = [
            (e.start + off, e.end + off, e.label) for e in enriched.entities if e.origin == "model"
        ]

    def token_index(self, offset: int) -> int:
        """Index of the token that holds ``offset`` (tokens computed on first use)."""
        if self._token_starts is None:
            self._token_starts = tokens(self.text)
        return max(0, bisect_right(self._token_starts, offset) - 1)

    def unit_of(self, offset: int, starts: list[int]) -> int:
        """Index of the unit (of sorted ``starts``) that holds ``offset``."""
        return max(0, bisect_right(starts, offset) - 1)


def _title_is_first_paragraph(title: str, body: str, paragraphs: list[Span]) -> bool:
    """The enrichment contract: the clean title is paragraph 0 of ``clean_text``."""
    if not paragraphs:
        return False
    first = body[paragraphs[0].start : paragraphs[0].end]
    if first == title or " ".join(first.split()) == " ".join(title.split()):
        return True
    if len(first) > 2 * len(title) + 16:
        return False
    return normalize(first).strip() == normalize(title).strip()
