"""``GET``/``POST /email/feedback?t=TOKEN``: the signed feedback links of alert emails.

Off unless ``NEWSWATCH_PUBLIC_URL`` and ``NEWSWATCH_LINK_SECRET`` are set. Mail scanners
and link previews follow links, so ``GET`` never acts: it verifies the token and shows a
small page naming the judgement with one *Confirm* button; the button ``POST`` s the token
back as a form, and only the ``POST`` records the judgement, through the same
``JudgementRecorder`` as the Slack buttons (user id ``email:<recipient>``, source
``email``; *Mute story* a story silence of ``NEWSWATCH_SLACK_MUTE``).

Refusals: a forged or altered token 401, an expired one 410, a malformed one 400, a body
over ``MAX_BODY`` 413; each counted as ``newswatch_email_feedback_total{outcome}``. Tokens
are never logged. A link confirmed again (a second click, a second worker behind the same
URL) is answered "already recorded" by this worker without a second record; a repeat that
reaches another worker publishes the same judgement again, which the rolling precision
counts once (``FeedbackFeed`` keeps one verdict per alert and user) and whose story
silence has the same id (derived from the token), so it replaces the first.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from urllib.parse import parse_qs

from alerts.links import FEEDBACK_PATH, LinkClaims, LinkError, LinkSigner
from streams.pipeline.judgements import Judgement, JudgementRecorder
from streams.pipeline.metrics import Metrics
from streams.pipeline.web import Response

__all__ = ["FEEDBACK_PATH", "MAX_BODY", "EmailFeedback"]

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
#: confirmed tokens remembered (until they expire) to answer a repeat without a new record
REMEMBERED = 10_000
_STATUS = {"malformed": 400, "forged": 401, "expired": 410}
_REFUSED = {
    "malformed": "This link is incomplete or damaged. Copy the whole link from the email.",
    "forged": "This link is not valid: it was not issued by newswatch or it was altered.",
    "expired": "This link has expired. Judge the alert from a newer email or from Slack.",
}
_LABELS = {
    "relevant": "Mark this alert as relevant",
    "not_relevant": "Mark this alert as not relevant",
    "mute_story": "Mute this story",
}
_DONE = {
    "relevant": "Recorded: relevant.",
    "not_relevant": "Recorded: not relevant.",
    "mute_story": "The story is muted: its updates are not sent until {until}.",
}
HEADERS = (
    ("Cache-Control", "no-store"),
    ("Referrer-Policy", "no-referrer"),  # the token is in the URL
    ("X-Frame-Options", "DENY"),  # no clickjacking of the confirm button
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Robots-Tag", "noindex"),
)


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _page(status: int, title: str, body: str) -> Response:
    html = (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>newswatch: {escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.4">'
        f"<h2>{escape(title)}</h2>{body}</body></html>\n"
    )
    return Response(status, "text/html; charset=utf-8", html.encode("utf-8"), HEADERS)


class EmailFeedback:
    """Verifies feedback link tokens; GET shows a confirm page, POST records the judgement."""

    def __init__(
        self,
        *,
        signer: LinkSigner,
        recorder: JudgementRecorder,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer = signer
        self.recorder = recorder
        self.metrics = metrics
        self.clock = clock
        #: token digest → (expires at, the answer given when it was recorded)
        self._done: OrderedDict[str, tuple[float, str]] = OrderedDict()

    # ------------------------------------------------------------------ requests
    def show(self, token: str | None) -> Response:
        """``GET``: the confirm page of a valid token (records nothing), else the refusal."""
        claims = self._verify(token)
        if isinstance(claims, Response):
            return claims
        self.metrics.email_feedback("shown")
        details = (
            f"<p>Rule <code>{escape(claims.rule_id)}</code>, alert "
            f"<code>{escape(claims.alert_id)}</code>, story <code>{escape(claims.story_id)}"
            f"</code>.<br>As <code>{escape(claims.recipient or 'unknown')}</code>; this link "
            f"is valid until {_utc(claims.expires_at)}.</p>"
        )
        if claims.action == "mute_story":
            days = self.recorder.mute_s / 86400
            details += f"<p>Updates of this story are not sent for {days:g} days.</p>"
        form = (
            '<form method="post"><input type="hidden" name="t" value="'
            f'{escape(token or "")}"><button type="submit" style="font-size:1.1em">Confirm'
            "</button></form>"
        )
        return _page(200, _LABELS[claims.action], details + form)

    async def confirm(self, body: bytes | None, query_token: str | None) -> Response:
        """``POST``: verify the token (form field ``t``, else the query) and record it once."""
        if body is None:
            self.metrics.email_feedback("too_large")
            return _page(413, "Request too large", "<p>The request body is too large.</p>")
        token = _form_token(body) or query_token
        claims = self._verify(token)
        if isinstance(claims, Response):
            return claims
        assert token is not None
        digest = hashlib.sha256(token.encode()).hexdigest()
        self._forget_expired()
        if digest in self._done:
            self.metrics.email_feedback("repeated")
            return _page(200, "Already recorded", f"<p>{self._done[digest][1]}</p>")
        self._done[digest] = (claims.expires_at, "This judgement is being recorded.")
        try:
            _feedback, silence = await self.recorder.apply(_judgement(claims, digest))
        except Exception:
            del self._done[digest]
            log.exception("recording an email feedback judgement failed")
            self.metrics.email_feedback("failed")
            return _page(503, "Not recorded", "<p>Please try again in a minute.</p>")
        until = _utc(silence.ends_at) if silence is not None else ""
        answer = escape(_DONE[claims.action].format(until=until))
        self._done[digest] = (claims.expires_at, answer)
        while len(self._done) > REMEMBERED:
            self._done.popitem(last=False)
        self.metrics.email_feedback("recorded")
        return _page(200, "Thank you", f"<p>{answer}</p>")

    # ------------------------------------------------------------------ internals
    def _verify(self, token: str | None) -> LinkClaims | Response:
        try:
            return self.signer.verify(token or "", self.clock())
        except LinkError as exc:
            self.metrics.email_feedback(exc.reason)
            log.warning("refused an email feedback link: %s", exc.reason)
            return _page(_STATUS[exc.reason], "Link not accepted", f"<p>{_REFUSED[exc.reason]}</p>")

    def _forget_expired(self) -> None:
        now = self.clock()
        for digest in [d for d, (expires, _) in self._done.items() if expires <= now]:
            del self._done[digest]


def _form_token(body: bytes) -> str | None:
    """The ``t`` field of a urlencoded form body, if any."""
    try:
        form = parse_qs(body.decode("ascii"), max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        return None
    values = form.get("t")
    return values[0] if values else None


def _judgement(claims: LinkClaims, digest: str) -> Judgement:
    return Judgement(
        verdict=claims.action,
        alert_id=claims.alert_id,
        rule_id=claims.rule_id,
        article_id=claims.article_id,
        story_id=claims.story_id,
        watchlist_version=claims.watchlist_version,
        user_id=f"email:{claims.recipient}",
        source="email",
        silence_id=f"sil-{digest[:12]}" if claims.action == "mute_story" else None,
    )
