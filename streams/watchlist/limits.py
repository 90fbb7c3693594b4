"""Size limits of a watch-list, each raisable by an environment setting (issue 13.4).

A small YAML file can ask for a lot: anchors and aliases (``&a`` / ``*a``) let 55 KB expand
to two million terms. The loader counts before it builds:

- ``NEWSWATCH_WATCHLIST_MAX_ALIAS_NODES`` (default 100,000): YAML nodes added by expanding
  aliases, counted on the composed document before any Python list or dict is built;
- ``NEWSWATCH_MAX_PATTERNS`` (default 500,000): terms (entity aliases and excludes, concept
  terms and excludes, inline ``term:``/``regex:`` conditions) over the main file and its
  includes, counted on the parsed data before validation.

A watch-list over a limit is refused with a message naming the limit and the setting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["MAX_ALIAS_NODES", "MAX_PATTERNS", "Limit"]


@dataclass(frozen=True)
class Limit:
    """A bound with its default and the environment setting that raises it."""

    setting: str
    default: int
    what: str

    def value(self) -> int:
        """The current bound: the setting when it is a positive integer, else the default."""
        raw = os.environ.get(self.setting, "").strip().replace("_", "")
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
        return self.default

    def message(self, found: str) -> str:
        """The error text: what exceeded which limit, and how to raise it."""
        return (
            f"{self.what}: {found}, more than the limit of {self.value():,}"
            f" (set {self.setting} to raise it)"
        )


MAX_ALIAS_NODES = Limit(
    "NEWSWATCH_WATCHLIST_MAX_ALIAS_NODES", 100_000, "YAML aliases expand to too many nodes"
)
MAX_PATTERNS = Limit("NEWSWATCH_MAX_PATTERNS", 500_000, "too many terms in the watch-list")
