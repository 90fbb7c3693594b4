"""Pure helpers of the fault tests: generated article streams, rules, and tallies of Slack.

Articles are generated, not sampled: each matching article carries one invented code word
(so exactly one rule fires), a unique URL, a unique title token ``story-NNNNN`` and its own
random text, so every expected alert is its own story (no URL, near-duplicate or entity
grouping can merge two of them).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

#: Invented words: one per rule, never produced by the filler vocabulary.
CODEWORDS = (
    "zorblax",
    "quintarel",
    "vexilloid",
    "marbutane",
    "glonkwise",
    "frimsody",
    "plaxitude",
    "drovanic",
    "snelquist",
    "brumhollow",
)

_VOCAB = (  # noqa: SIM905
    "the of and to in a is that for it as was with be by on not he this are or his from at "
    "which but have an they you were her she there would their we him been has when who "
    "will more no if out so said what up its about into than them can only other new some "
    "could time these two may then do first any my now such like our over man me even most "
    "made after also did many before must through back years where much your way well down "
    "should because each just those people how too little state good very make world still "
    "own see men work long get here between both life being under never day same another "
    "know while last might us great old year off come since against go came right used take "
    "three"
).split()

_STORY = re.compile(r"story-\d{5}")


def rules_for(count: int, *, channel: str = "slack:#sec-{i}") -> dict[str, tuple[str, str]]:
    """``count`` rules ``r0..``: rule ``ri`` fires on ``CODEWORDS[i]`` and sends to its channel."""
    return {f"r{i}": (CODEWORDS[i], channel.format(i=i)) for i in range(count)}


def story_of(message: Mapping[str, object]) -> str | None:
    """The ``story-NNNNN`` token of a Slack message (its article's title), if any."""
    found = _STORY.search(str(message.get("text") or ""))
    return found.group(0) if found else None


@dataclass
class ArticleStream:
    """Generated raw records and which of them must alert."""

    records: list[tuple[bytes, bytes]] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # story token → rule id

    def by_rule(self) -> dict[str, list[str]]:
        """Story tokens of each rule in produce order."""
        order: dict[str, list[str]] = {}
        for story, rule in self.expected.items():
            order.setdefault(rule, []).append(story)
        return order


@dataclass
class Tally:
    """What reached Slack compared with what was expected."""

    expected: int
    delivered: int
    missing: list[str]
    duplicated: dict[str, int]
    unexpected: list[str]

    @classmethod
    def of(cls, messages: Sequence[Mapping[str, object]], expected: Mapping[str, str]) -> Tally:
        """Count the messages of each expected story."""
        seen = Counter(story_of(m) for m in messages)
        return cls(
            expected=len(expected),
            delivered=sum(1 for story in expected if seen[story]),
            missing=sorted(s for s in expected if not seen[s]),
            duplicated={s: n for s, n in seen.items() if s is not None and n > 1},
            unexpected=sorted(str(s) for s in seen if s not in expected),
        )


def generate_stream(
    count: int, *, every: int, rules: int, start: int = 0, seed: int = 7
) -> ArticleStream:
    """``count`` articles numbered from ``start``; every ``every``-th one matches one rule.

    Matching article ``n`` carries the code word of rule ``(n // every) % rules``.
    """
    rng = random.Random(seed + start)
    stream = ArticleStream()
    for n in range(start, start + count):
        words = rng.choices(_VOCAB, k=60)
        story = f"story-{n:05d}"
        if n % every == 0:
            rule = (n // every) % rules
            words.insert(rng.randrange(10, 50), CODEWORDS[rule])
            stream.expected[story] = f"r{rule}"
        article = {
            "id": f"art-{n:05d}",
            "title": f"{story} " + " ".join(rng.choices(_VOCAB, k=5)),
            "text": " ".join(words).capitalize() + ".",
            "url": f"https://news.example/{n}",
            "source": "news.example",
        }
        stream.records.append((article["id"].encode(), json.dumps(article).encode()))
    return stream


def where_lost(bootstrap: str, topic: Callable[[str], str], stories: Sequence[str]) -> str:
    """For an assertion message: how far each lost story got, hop by hop.

    Counts the story's records on articles.enriched, articles.matches, alerts and the Slack
    lane, then lists its ``alerts.outcomes`` records (decide action, deliver result).
    """
    from streams.testing import read_topic

    found: dict[str, Counter[str]] = {}
    article_of: dict[str, str] = {}
    names = ("articles.enriched", "articles.matches", "alerts", "alerts.lane.slack", "alerts.dlq")
    for name in names:
        records = read_topic(bootstrap, topic(name), expect=10**6, timeout=3)
        found[name] = Counter()
        for r in records:
            value = r["value"] or {}
            if name == "alerts.dlq":  # a dead letter carries the alert as a string
                if m := _STORY.search(str(value.get("value"))):
                    found[name][f"{m.group(0)}"] += 1
                continue
            article = value.get("article", {})
            if m := _STORY.search(str(article.get("title"))):
                found[name][m.group(0)] += 1
                article_of[m.group(0)] = str(article.get("id"))
    outcomes = read_topic(bootstrap, topic("alerts.outcomes"), expect=10**6, timeout=3)
    trail: dict[str, list[str]] = {}
    for r in outcomes:
        value = r["value"] or {}
        trail.setdefault(str(value.get("article_id")), []).append(
            f"{value.get('stage')}:{value.get('action')}"
            + (f"({value.get('reason')})" if value.get("reason") else "")
        )
    return "; ".join(
        f"{s}: "
        + " ".join(f"{name.removeprefix('articles.')}={found[name][s]}" for name in found)
        + f" outcomes={trail.get(article_of.get(s, ''), [])}"
        for s in stories[:20]
    )
