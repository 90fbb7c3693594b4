"""The error tree of ``streams.watchlist``.

    streams.errors.NewswatchError
    └── WatchlistError          one or more problems, each with file:line:col
                                (``.problems``: list of ``Problem``); raised by the loader,
                                the checker and the compiler, never anything else

A ``WatchlistError`` always carries at least one ``Problem``; ``str(err)`` is one
``FILE:LINE:COL: message`` line per problem, ready to print for an editor or a terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streams.errors import NewswatchError

__all__ = ["Problem", "WatchlistError"]


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a watch-list file: where (1-based line and column) and what."""

    file: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.message}"


class WatchlistError(NewswatchError):
    """A watch-list could not be loaded; ``problems`` says where and why."""

    exit_code = 1

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(set(problems)) or [
            Problem("<watch-list>", 1, 1, "invalid watch-list")
        ]
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def file(self) -> str:
        """The file of the first problem (the one an editor should open)."""
        return self.problems[0].file
