"""Escaping, cutting and URL checks that keep untrusted text inert."""

from __future__ import annotations

import pytest

from alerts._similarity import jaccard, signature
from alerts._text import cut, mrkdwn_escape, safe_url, strip_controls
from alerts._urls import canonical_url, source_key
from tests.alerts.conftest import OTHER_STORY, STORY


def test_mrkdwn_escape_neutralises_mentions_and_links() -> None:
    """The three mrkdwn control characters are escaped, so no mention or link can form."""
    raw = "<!channel> <@U123> <https://evil|click> AT&T"
    escaped = mrkdwn_escape(raw)
    assert "<" not in escaped and ">" not in escaped
    assert escaped == "&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil|click&gt; AT&amp;T"


def test_cut_adds_an_ellipsis_and_respects_the_limit() -> None:
    """A long text is cut to exactly the limit and ends with an ellipsis."""
    out = cut("word " * 100, 50)
    assert len(out) <= 50 and out.endswith("…")
    assert cut("short", 50) == "short"


def test_cut_never_splits_an_escaped_entity() -> None:
    """Cutting inside ``&amp;`` drops the partial entity instead of leaving ``&am``."""
    text = "x" * 8 + "&amp;" + "y" * 20
    for limit in range(9, 14):
        out = cut(text, limit)
        assert "&am…" not in out and "&a…" not in out and "&…" not in out, out


def test_strip_controls_removes_ansi_and_bidi() -> None:
    """Terminal escapes, NUL and bidi overrides are removed; newlines and tabs stay."""
    assert strip_controls("a\x1b[31mred\x00\u202eb\tc\nd") == "a[31mredb\tc\nd"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>",
        "https://trusted.example@evil.example/",
        "https://exa mple.com/",
        "ftp://example.com/file",
        "https://",
        None,
        "",
    ],
)
def test_safe_url_rejects_dangerous_urls(url: str | None) -> None:
    """Non-http(s) schemes, user-info, whitespace and empty values give None."""
    assert safe_url(url) is None


def test_safe_url_encodes_characters_that_could_close_a_link() -> None:
    """``|``, ``<``, ``>`` and quotes are percent-encoded; the URL stays usable."""
    out = safe_url("https://Example.com/a|b<c>\"d'?q=1&r=2")
    assert out is not None
    assert out.startswith("https://example.com/a%7Cb%3Cc%3E%22d")
    assert "|" not in out and "<" not in out and '"' not in out
    assert out.endswith("?q=1&r=2")


def test_canonical_url_ignores_scheme_www_tracking_and_fragment() -> None:
    """Different spellings of one page give one canonical string; another page differs."""
    a = canonical_url("https://www.News.example/story/1/?utm_source=x&id=5#comments")
    b = canonical_url("http://news.example/story/1?id=5&fbclid=abc")
    assert a == b == "news.example/story/1?id=5"
    assert canonical_url("https://news.example/story/2") != a
    assert canonical_url("mailto:someone@example.com") is None


def test_source_key_prefers_source_then_host() -> None:
    """The outlet is the source field (casefolded) or else the URL host."""
    assert source_key("News One", None) == "news one"
    assert source_key(None, "https://www.other.example/x") == "other.example"
    assert source_key(None, None) is None


def test_minhash_finds_near_duplicates_and_separates_stories() -> None:
    """Two outlets' copies of one text are similar; different stories are not."""
    copy = "Reuters — " + STORY.replace("Thursday", "Friday") + " Subscribe to our newsletter."
    a, b, c = signature(STORY), signature(copy), signature(OTHER_STORY)
    assert a is not None and b is not None and c is not None
    assert jaccard(a, b) >= 0.7
    assert jaccard(a, c) < 0.2
    assert signature(STORY) == a  # deterministic
    assert signature("too short") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://[::1]:80/x", "https://[::1]:80/x"),
        ("https://[2001:DB8::1]/a?b=1", "https://[2001:db8::1]/a?b=1"),
        ("http://192.0.2.1:8080/", "http://192.0.2.1:8080/"),
    ],
)
def test_safe_url_keeps_ipv6_brackets(url: str, expected: str) -> None:
    """An IPv6 literal host keeps its brackets (``https://::1:80/x`` would be a different URL)."""
    assert safe_url(url) == expected
