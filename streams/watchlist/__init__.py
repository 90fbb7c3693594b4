"""The watch-list: load (YAML → validated models), compile (one automaton), match, reload.

Pure logic: no Faust or Kafka import. The enrich+match agent, ``newswatch match`` and
``newswatch replay`` all call these functions::

    loaded = load_watchlist(Path("watchlist.yaml"))      # WatchlistError with file:line:col
    compiled = compile_watchlist(loaded)                 # .version, .entity_patterns()
    matches = match_article(compiled, enriched_article)  # list[schemas.records.Match]

``WatchlistReloader`` polls the file and its includes and swaps in a new compiled version;
an invalid edit keeps the last good one.
"""

from pathlib import Path

from streams.watchlist.compile import CompiledRule, CompiledWatchlist, compile_watchlist
from streams.watchlist.errors import Problem, WatchlistError
from streams.watchlist.load import (
    PACKS_DIR,
    LoadedWatchlist,
    load_watchlist,
    shipped_packs,
)
from streams.watchlist.match import build_enriched, match_article, match_text
from streams.watchlist.reload import WatchlistReloader
from streams.watchlist.text import normalize

__all__ = [
    "PACKS_DIR",
    "CompiledRule",
    "CompiledWatchlist",
    "LoadedWatchlist",
    "Problem",
    "WatchlistError",
    "WatchlistReloader",
    "build_enriched",
    "compile_watchlist",
    "load_and_compile",
    "load_watchlist",
    "match_article",
    "match_text",
    "normalize",
    "shipped_packs",
]


def load_and_compile(path: str | Path) -> CompiledWatchlist:
    """``compile_watchlist(load_watchlist(path))``."""
    return compile_watchlist(load_watchlist(path))
