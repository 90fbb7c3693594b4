"""Pydantic model of the watch-list YAML (and of the concept packs it includes).

``schemas/watchlist.schema.json`` is generated from ``Watchlist`` (``python -m
schemas.export``); editors can validate a watch-list against it. The model checks every
value on its own (condition syntax, scope, channel, duration, language code, regex); checks
that need the whole document (undefined references, duplicates across includes) are done
by ``streams.watchlist`` which also turns errors into ``FILE:LINE:COL: message`` lines.

Example::

    version: 1
    include: [packs/espionage.yaml]
    entities:
      alibaba: {aliases: [Alibaba, Alibaba Group, 阿里巴巴], labels: [ORG]}
    rules:
      - id: alibaba-espionage
        title: Alibaba linked to espionage concerns
        severity: high
        all: [entity:alibaba, concept:espionage]
        within: paragraph
        channels: [console, slack:#sec-alerts]
        throttle: {per: story, window: 6h}
        group_by: [url, text]       # the default; add ``entities`` to merge by entity set
"""

from __future__ import annotations

import difflib
import re
import warnings
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.channels import CHANNEL_KINDS, SpecSyntaxError, parse_channel_spec

__all__ = [
    "CHANNEL_KINDS",
    "CONDITION_KINDS",
    "DEFAULT_GROUP_BY",
    "DEFAULT_STORY_WINDOW_S",
    "GROUP_BY_KINDS",
    "ISO_639_1",
    "SCOPES",
    "ConceptDef",
    "EntityDef",
    "Rule",
    "Throttle",
    "Watchlist",
    "did_you_mean",
    "duration_seconds",
    "parse_scope",
    "python_regex",
]

CONDITION_KINDS = ("entity", "concept", "term", "regex")
SCOPES = ("sentence", "paragraph", "article")
#: What makes two reports one story: the same canonical URL, near-duplicate clean text
#: (MinHash), or the same set of matched watch-list entities within the story window.
GROUP_BY_KINDS = ("url", "text", "entities")
DEFAULT_GROUP_BY: tuple[str, ...] = ("url", "text")
#: Story window when a rule sets no ``throttle``: 6 hours.
DEFAULT_STORY_WINDOW_S = 6 * 3600.0
MAX_TERM_CHARS = 200

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
_ID_RE = re.compile(_ID_PATTERN)
_TOKENS_RE = re.compile(r"^([1-9][0-9]{0,4})\s*tokens?$")
_DURATION_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d|w)?$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK_RE = re.compile(r"^(#[a-z0-9_.-]{1,80}|[CGDU][A-Z0-9]{6,20})$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
_LANG_KEYS = ("any", "*")

# ISO 639-1 codes; kept here so the model can check language keys without importing streams.
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu
    """.split()  # noqa: SIM905
)


_LANGUAGE_ALIASES = {
    "deu": "de", "ger": "de", "german": "de", "deutsch": "de", "eng": "en", "english": "en",
    "fra": "fr", "fre": "fr", "french": "fr", "nld": "nl", "dut": "nl", "dutch": "nl",
    "spa": "es", "spanish": "es", "ita": "it", "italian": "it", "por": "pt", "portuguese": "pt",
    "pol": "pl", "polish": "pl", "rus": "ru", "russian": "ru", "zho": "zh", "chi": "zh",
    "chinese": "zh", "cn": "zh", "jpn": "ja", "jp": "ja", "japanese": "ja", "kor": "ko",
    "kr": "ko", "swe": "sv", "se": "sv", "swedish": "sv", "dan": "da", "dk": "da",
    "danish": "da", "nor": "no", "norwegian": "no", "gr": "el", "ua": "uk", "cz": "cs",
}  # fmt: skip


def _suggest_language(code: str) -> str:
    guess = _LANGUAGE_ALIASES.get(code) or (code[:2] if code[:2] in ISO_639_1 else None)
    return f" (did you mean '{guess}'?)" if guess else did_you_mean(code, ISO_639_1)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | frozenset[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def duration_seconds(value: int | float | str) -> float:
    """Seconds of a duration: a number of seconds, or ``30s``, ``15m``, ``6h``, ``2d``, ``1w``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '6h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION_RE.match(value.strip().lower())
        if not m:
            raise ValueError(f"invalid duration '{value}': use e.g. 30s, 15m, 6h, 2d or 1w")
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if not 0 < seconds <= 366 * 86400:
        raise ValueError(f"duration '{value}' must be more than 0s and at most 366d")
    return seconds


def parse_scope(value: str) -> tuple[str, int]:
    """``("sentence"|"paragraph"|"article", 0)`` or ``("tokens", N)`` for ``"<N> tokens"``."""
    text = value.strip().lower()
    if text in SCOPES:
        return text, 0
    m = _TOKENS_RE.match(text)
    if m:
        return "tokens", int(m.group(1))
    raise ValueError(
        f"unknown scope '{value}': use sentence, paragraph, article or '<N> tokens'"
        + did_you_mean(text, SCOPES)
    )


def _check_scope(value: str) -> str:
    parse_scope(value)
    return value


def python_regex(pattern: str) -> re.Pattern[str]:
    """``re.compile`` without its FutureWarnings (e.g. "Possible nested set" for ``[[``).

    Such a warning is about a future Python's reading of the pattern, not an error; turned
    into an exception (``-W error``) it escaped the loader (found by a hypothesis test).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern)


def _check_term(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("empty term")
    if len(text) > MAX_TERM_CHARS:
        raise ValueError(f"term longer than {MAX_TERM_CHARS} characters")
    if text.startswith("regex:"):
        pattern = text[len("regex:") :]
        if not pattern.strip():
            raise ValueError("empty regex")
        try:
            compiled = python_regex(pattern)
        except re.error as exc:
            raise ValueError(f"invalid regex '{pattern}': {exc}") from None
        except (RecursionError, OverflowError):
            raise ValueError(f"invalid regex '{pattern}': nested or repeated too deeply") from None
        if compiled.fullmatch(""):
            raise ValueError(f"regex '{pattern}' matches the empty string")
        return text
    core = text[1:] if text.startswith("=") else text
    if text.startswith("=") and "*" in core:
        raise ValueError(f"term '{value}': '=' (whole word) cannot be combined with '*'")
    inner = core.strip("*")
    if not inner.strip():
        raise ValueError(f"term '{value}' has no text besides wildcards")
    if "*" in inner:
        raise ValueError(f"term '{value}': '*' is only allowed at the start or end of a term")
    return text


def _check_condition(value: str) -> str:
    kind, sep, rest = value.partition(":")
    kind = kind.strip()
    if not sep:
        raise ValueError(
            f"condition '{value}' needs a kind: entity:ID, concept:ID, term:TEXT or regex:PATTERN"
        )
    if kind not in CONDITION_KINDS:
        raise ValueError(f"unknown condition kind '{kind}:'" + did_you_mean(kind, CONDITION_KINDS))
    rest = rest.strip()
    if kind in ("entity", "concept"):
        if not _ID_RE.match(rest):
            raise ValueError(f"invalid {kind} id '{rest}'")
    elif kind == "term":
        _check_term(rest)
    else:
        _check_term("regex:" + rest)
    return value


def _check_channel(value: str) -> str:
    kind, sep, target = value.partition(":")
    if kind not in CHANNEL_KINDS:
        raise ValueError(f"unknown channel '{value}'" + did_you_mean(kind, CHANNEL_KINDS))
    if kind == "email" and not _EMAIL_RE.match(target):
        raise ValueError(
            f"channel '{value}': email needs an address, e.g. email:secops@example.com"
        )
    if kind == "slack" and sep and not _SLACK_RE.match(target):
        raise ValueError(f"channel '{value}': slack needs '#channel-name' or a channel id")
    if sep and not target:
        raise ValueError(f"channel '{value}': empty target after ':'")
    try:
        parse_channel_spec(value)  # the one grammar (schemas/channels.py)
    except SpecSyntaxError as exc:
        raise ValueError(f"channel '{value}': {exc}") from None
    return value


def _check_language_key(value: str) -> str:
    code = value.strip().lower()
    if code in _LANG_KEYS:
        return code
    if not (_LANG_RE.match(code) and code in ISO_639_1):
        raise ValueError(
            f"unknown language code '{value}' (ISO 639-1, or 'any')" + _suggest_language(code)
        )
    return code


def _check_article_language(value: str) -> str:
    code = value.strip().lower()
    if not (_LANG_RE.match(code) and code in ISO_639_1):
        raise ValueError(f"unknown language code '{value}' (ISO 639-1)" + _suggest_language(code))
    return code


def _check_duration(value: int | float | str) -> int | float | str:
    duration_seconds(value)
    return value


Identifier = Annotated[str, Field(pattern=_ID_PATTERN, description="letters, digits, _ . -")]
Term = Annotated[
    str,
    AfterValidator(_check_term),
    Field(
        description="text to find; '=word' whole word only, 'pre*' / '*suf' / '*in*' "
        "wildcards, 'regex:PATTERN' a Python regex over the normalized text"
    ),
]
Condition = Annotated[
    str,
    AfterValidator(_check_condition),
    Field(
        description="entity:ID, concept:ID, term:TEXT or regex:PATTERN",
        json_schema_extra={"pattern": r"^(entity|concept|term|regex):.+$"},
    ),
]
Channel = Annotated[
    str,
    AfterValidator(_check_channel),
    Field(
        description="console, file[:name], slack[:#channel], email:ADDRESS, digest[:ADDRESS], "
        "webhook[:name]",
        json_schema_extra={"pattern": rf"^({'|'.join(CHANNEL_KINDS)})(:.+)?$"},
    ),
]
LanguageKey = Annotated[
    str,
    AfterValidator(_check_language_key),
    Field(description="ISO 639-1 code, or 'any' for every language"),
]
ArticleLanguage = Annotated[str, AfterValidator(_check_article_language)]
Scope = Annotated[
    str,
    AfterValidator(_check_scope),
    Field(
        description="sentence | paragraph | article | '<N> tokens'",
        json_schema_extra={"pattern": r"^(sentence|paragraph|article|[1-9][0-9]{0,4} ?tokens?)$"},
    ),
]
Duration = Annotated[
    int | float | str,
    AfterValidator(_check_duration),
    Field(description="seconds, or a string like 30s, 15m, 6h, 2d, 1w"),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntityDef(_Strict):
    """A named thing to watch: its aliases, and optionally the NER labels it must carry."""

    aliases: list[Term] = Field(min_length=1, description="names as written in articles")
    labels: list[Annotated[str, Field(pattern=r"^[A-Z_]{2,20}$")]] = Field(
        default_factory=list,
        description="NER labels (ORG, PERSON, GPE…); checked only when a trained model ran",
    )
    exclude: list[Term] = Field(
        default_factory=list,
        description="look-alikes that are not this entity: a hit inside one is dropped",
    )
    description: str | None = None


class ConceptDef(_Strict):
    """A topic, given as terms per language (``any`` = every language)."""

    description: str | None = None
    terms: dict[LanguageKey, list[Term]] = Field(min_length=1)
    exclude: dict[LanguageKey, list[Term]] = Field(
        default_factory=dict,
        description="false friends per language (e.g. de: [Protestant] for protest): "
        "a term hit inside a word matched by an exclude term is dropped",
    )


class Throttle(_Strict):
    """At most one alert per story within ``window``; later reports become updates."""

    per: Literal["story"] = "story"
    window: Duration = "6h"

    @property
    def window_s(self) -> float:
        """The window in seconds."""
        return duration_seconds(self.window)


GroupBy = Literal["url", "text", "entities"]


def _default_group_by() -> list[GroupBy]:
    return ["url", "text"]


class Rule(_Strict):
    """When to alert: conditions over entities, concepts and inline terms within a scope."""

    # The JSON Schema says what ``_needs_positive_condition`` checks, for editors.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "anyOf": [
                {"required": ["all"], "properties": {"all": {"minItems": 1}}},
                {"required": ["any"], "properties": {"any": {"minItems": 1}}},
            ]
        },
    )

    id: Identifier
    title: str = Field(min_length=1, max_length=300)
    description: str | None = None
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    enabled: bool = True
    all: list[Condition] = Field(default_factory=list, description="every one must match")
    any: list[Condition] = Field(default_factory=list, description="at least one must match")
    none: list[Condition] = Field(
        default_factory=list, description="none may match within the same scope (veto)"
    )
    within: Scope = "paragraph"
    languages: list[ArticleLanguage] = Field(
        default_factory=list, description="only articles in these languages (default: all)"
    )
    sources: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="only articles whose source or URL host matches one of these globs",
    )
    channels: list[Channel] = Field(default_factory=list)
    throttle: Throttle | None = None
    group_by: list[GroupBy] = Field(
        default_factory=_default_group_by,
        min_length=1,
        description="what makes two reports one story: url (same canonical URL), text "
        "(near-duplicate text), entities (same matched entity set within the story window; "
        "merges distinct articles about the same actors, so opt in per rule)",
    )

    @model_validator(mode="after")
    def _needs_positive_condition(self) -> Rule:
        if not self.all and not self.any:
            raise ValueError(f"rule '{self.id}' needs at least one 'all' or 'any' condition")
        return self


class Watchlist(_Strict):
    """A watch-list file, or a concept pack (a file with entities/concepts and no rules)."""

    version: Literal[1] = 1
    description: str | None = None
    include: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="concept packs: paths relative to this file, or names of shipped packs",
    )
    entities: dict[Identifier, EntityDef] = Field(default_factory=dict)
    concepts: dict[Identifier, ConceptDef] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    ops_channels: list[Channel] = Field(
        default_factory=list,
        description="where ops alerts about sources go (feed failing, silent, zero items, "
        "low volume), e.g. [console, 'slack:#newswatch-ops']; empty: logged only",
    )
