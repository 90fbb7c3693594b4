"""Signed email feedback links (alerts.links): signing, verification, refusals, rotation."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

from alerts.links import FEEDBACK_PATH, LINK_ACTIONS, LinkError, LinkSigner, key_id
from schemas.records import AlertRecord

MakeA = Callable[..., AlertRecord]
SECRET = "link-secret-0123456789abcdef"
NOW = 1_800_000_000.0
TTL = 7 * 86400.0


def _signer(secret: str = SECRET, **kw: object) -> LinkSigner:
    """A signer on a fixed clock."""
    base = {"base_url": "https://nw.example/prefix/", "ttl_s": TTL, "clock": lambda: NOW}
    base.update(kw)
    return LinkSigner(secret, **base)  # type: ignore[arg-type]


def _token(url: str) -> str:
    """The ``t`` query parameter of a link."""
    return parse_qs(urlsplit(url).query)["t"][0]


def _flip(text: str, at: int) -> str:
    """``text`` with the base64url character at ``at`` replaced by another one."""
    return text[:at] + ("B" if text[at] == "A" else "A") + text[at + 1 :]


def test_links_roundtrip_to_the_claims_of_the_alert(make_alert: MakeA) -> None:
    """Each of the three links verifies to its action, the alert's ids and the recipient."""
    alert = make_alert()
    signer = _signer()
    links = signer.links(alert, "ana@example.org")
    assert list(links) == list(LINK_ACTIONS) == ["relevant", "not_relevant", "mute_story"]
    for action, url in links.items():
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc, parts.path) == (
            "https",
            "nw.example",
            f"/prefix{FEEDBACK_PATH}",
        )
        claims = signer.verify(_token(url))
        assert claims.action == action
        assert (claims.alert_id, claims.rule_id, claims.article_id, claims.story_id) == (
            alert.alert_id,
            alert.rule_id,
            alert.article.id,
            alert.story_id,
        )
        assert claims.recipient == "ana@example.org"
        assert claims.watchlist_version == "wl-test"
        assert claims.expires_at == int(NOW + TTL)


def test_link_carries_no_article_text_and_needs_no_escaping(make_alert: MakeA) -> None:
    """Hostile titles/URLs never reach the link; the token uses only URL-safe characters."""
    alert = make_alert(title='<script>"x"</script> & more', url="https://evil.example/?a=<b>")
    url = _signer().links(alert, "ana@example.org")["relevant"]
    assert "evil" not in url and "script" not in url and "<" not in url
    token = _token(url)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert url.endswith("?t=" + token)


def test_altered_payload_or_signature_is_forged(make_alert: MakeA) -> None:
    """Changing any character of the payload or the signature makes the token forged."""
    signer = _signer()
    token = signer.token(signer.claims(make_alert(), "relevant", "ana@example.org"))
    version, kid, payload, signature = token.split(".")
    # a different, validly signed-looking payload: not_relevant instead of relevant
    other = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other[0] = "not_relevant"
    swapped = base64.urlsafe_b64encode(json.dumps(other).encode()).rstrip(b"=").decode()
    for bad in (
        f"{version}.{kid}.{_flip(payload, 5)}.{signature}",
        f"{version}.{kid}.{payload}.{_flip(signature, 3)}",
        f"{version}.{kid}.{payload}.{_flip(signature, len(signature) - 1)}",  # spare bits too
        f"{version}.{kid}.{swapped}.{signature}",
    ):
        with pytest.raises(LinkError) as info:
            signer.verify(bad)
        assert info.value.reason == "forged", bad


def test_token_of_another_secret_is_forged(make_alert: MakeA) -> None:
    """A token signed with another secret (another key id, or a faked key id) is refused."""
    mine, theirs = _signer(), _signer("another-secret-0123456789")
    token = theirs.token(theirs.claims(make_alert(), "relevant", "ana@example.org"))
    with pytest.raises(LinkError, match="forged"):
        mine.verify(token)
    version, _kid, payload, signature = token.split(".")
    with pytest.raises(LinkError, match="forged"):
        mine.verify(f"{version}.{key_id(SECRET)}.{payload}.{signature}")


def test_expired_token_is_refused_after_its_lifetime(make_alert: MakeA) -> None:
    """Valid until ``now + ttl``; at and after that instant it is ``expired``."""
    signer = _signer()
    token = signer.token(signer.claims(make_alert(), "mute_story", "ana@example.org"))
    assert signer.verify(token, now=NOW + TTL - 1).action == "mute_story"
    with pytest.raises(LinkError) as info:
        signer.verify(token, now=NOW + TTL)
    assert info.value.reason == "expired"


@pytest.mark.parametrize(
    "token",
    ["", "v1", "v1.a.b", "v2.abcd.eyJ9.sig", "v1.x.y.z.w", "v1.abc.é.sig", "v1." + "a" * 9000],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    """Empty, truncated, wrong-version, non-ASCII and oversized tokens are ``malformed``."""
    with pytest.raises(LinkError) as info:
        _signer().verify(token)
    assert info.value.reason == "malformed"


def test_rotation_keeps_links_of_the_previous_secret_valid(make_alert: MakeA) -> None:
    """After a rotation, links signed with the previous secret verify; new ones use the new."""
    old = _signer()
    token = old.token(old.claims(make_alert(), "relevant", "ana@example.org"))
    rotated = _signer("the-new-secret-0123456789", previous=[SECRET])
    assert rotated.verify(token).action == "relevant"
    fresh = rotated.token(rotated.claims(make_alert(), "relevant", "ana@example.org"))
    assert fresh.split(".")[1] == key_id("the-new-secret-0123456789") != key_id(SECRET)
    with pytest.raises(LinkError, match="forged"):
        _signer("the-new-secret-0123456789").verify(token)  # previous secret dropped


def test_key_id_does_not_reveal_the_secret() -> None:
    """The key id is 8 hex digits that differ per secret and do not contain it."""
    kid = key_id(SECRET)
    assert len(kid) == 8 and int(kid, 16) >= 0 and kid not in SECRET
    assert key_id(SECRET + "x") != kid


def test_signer_refuses_an_empty_secret_or_a_non_http_url() -> None:
    """Misconfiguration fails at construction, not when a link is followed."""
    with pytest.raises(ValueError, match="secret"):
        LinkSigner("", base_url="https://nw.example", ttl_s=60)
    with pytest.raises(ValueError, match="http"):
        LinkSigner(SECRET, base_url="javascript:alert(1)", ttl_s=60)
