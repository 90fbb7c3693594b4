"""``regex:`` terms on RE2: matching time linear in the text, whatever the pattern.

Python's ``re`` backtracks: ``(a+)+$``, ``(x|x)*y`` or ``(\\w+\\s?)+ cve`` take seconds to
minutes on a few kilobytes of text, holding the GIL (so a thread does not help). RE2
(``google-re2``) guarantees time linear in the text and bounded memory, at the price of a
smaller syntax. ``compile_regex`` accepts the Python syntax of a watch-list term and
translates it to RE2 with the same meaning over the normalized (case-folded) text:

- ``\\w`` ``\\W`` ``\\d`` ``\\D`` are Unicode-aware as in Python (RE2's are ASCII-only);
- ``\\b`` is supported at the very start and end of a pattern (RE2's ``\\b`` is ASCII-only):
  it is emulated with a character of context outside the reported span;
- ``{,n}`` means ``{0,n}`` as in Python; ``\\Z`` is end of text.

Patterns RE2 cannot run in linear time are rejected with ``RegexError`` (a clear message;
``watchlist check`` adds ``FILE:LINE:COL``): backreferences, lookahead/lookbehind, atomic
groups, conditionals, ``\\b``/``\\B`` inside a pattern, ``\\W`` inside ``[...]``.
"""

from __future__ import annotations

from collections.abc import Iterator

import re2

__all__ = ["ByteMap", "RegexError", "SafeRegex", "compile_regex"]

_WORD = r"\p{L}\p{N}_"  # Python's Unicode \w: letters, numbers, underscore
_MAX_MEM = 8 << 20  # RE2 program + DFA cache per pattern (bytes)


class RegexError(ValueError):
    """A ``regex:`` pattern that the linear-time engine cannot run (message says why)."""


_UNSUPPORTED_GROUPS = {
    "(?=": "lookahead '(?=…)'",
    "(?!": "negative lookahead '(?!…)'",
    "(?<=": "lookbehind '(?<=…)'",
    "(?<!": "negative lookbehind '(?<!…)'",
    "(?P=": "backreference '(?P=name)'",
    "(?>": "atomic group '(?>…)'",
    "(?(": "conditional '(?(…)…)'",
    "(?#": "comment group '(?#…)'",
}
_HINT = " (regex terms run on RE2, which guarantees linear time; rewrite without it)"


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = _MAX_MEM
    return options


def _translate(pattern: str) -> tuple[str, bool, bool]:
    """RE2 syntax of a Python pattern, and whether it starts / ends with ``\\b``."""
    lead = pattern.startswith("\\b")
    body = pattern[2:] if lead else pattern
    backslashes = len(body[:-1]) - len(body[:-1].rstrip("\\"))
    trail = body.endswith("b") and backslashes % 2 == 1  # not an escaped backslash + "b"
    body = body[:-2] if trail else body
    out: list[str] = []
    i, n, in_class = 0, len(body), False
    while i < n:
        c = body[i]
        if c == "\\":
            if i + 1 >= n:
                raise RegexError("pattern ends with a lone backslash")
            e = body[i + 1]
            i += 2
            if e == "w":
                out.append(_WORD if in_class else f"[{_WORD}]")
            elif e == "W":
                if in_class:
                    raise RegexError(r"'\W' inside '[...]' is not supported; use [^...]" + _HINT)
                out.append(f"[^{_WORD}]")
            elif e == "d":
                out.append(r"\p{Nd}")
            elif e == "D":
                out.append(r"\P{Nd}")
            elif e == "Z":
                out.append(r"\z")
            elif e in "bB" and not in_class:
                raise RegexError(
                    f"'\\{e}' is only supported at the start or end of a pattern" + _HINT
                )
            elif e == "b":
                out.append(r"\x08")
            elif e.isdigit() and e != "0":
                raise RegexError(f"backreference '\\{e}' is not supported" + _HINT)
            else:
                out.append("\\" + e)
            continue
        if in_class:
            if c == "]":
                in_class = False
            elif c == "[" and body.startswith(("[:", "[=", "[."), i):
                pass  # POSIX class syntax: RE2 handles or rejects it
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if i < n and body[i] == "^":
                out.append("^")
                i += 1
            if i < n and body[i] == "]":  # a leading ']' is a literal
                out.append(r"\]")
                i += 1
            continue
        if c == "(":
            for prefix, what in _UNSUPPORTED_GROUPS.items():
                if body.startswith(prefix, i):
                    raise RegexError(f"{what} is not supported" + _HINT)
        if c == "{" and body.startswith("{,", i):
            out.append("{0,")
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out), lead, trail


class SafeRegex:
    """A compiled ``regex:`` term: ``spans(text)`` yields match spans in characters."""

    __slots__ = ("_rx", "lead", "pattern", "trail", "translated")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        body, self.lead, self.trail = _translate(pattern)
        self.translated = (
            ("(?:^|[^" + _WORD + "])" if self.lead else "")
            + f"({body})"
            + ("(?:$|[^" + _WORD + "])" if self.trail else "")
        )
        try:
            self._rx = re2.compile(self.translated.encode("utf-8"), _options())
        except re2.error as exc:
            raise RegexError(f"not supported by the linear-time engine: {_reason(exc)}") from None

    def spans(self, text: str, bytemap: ByteMap | None = None) -> Iterator[tuple[int, int]]:
        """Non-overlapping ``(start, end)`` character spans of the pattern in ``text``."""
        bm = bytemap or ByteMap(text)
        data, pos, end = bm.data, 0, len(bm.data)
        search = self._rx.search
        while pos <= end:
            m = search(data, pos)
            if m is None:
                return
            s, e = m.span(1)
            if e > s:
                yield bm.char(s), bm.char(e)
            # restart right after the reported span: a context character of the trailing
            # \b can be the leading context of the next match
            nxt = e if e > pos else pos + 1
            while nxt < end and (data[nxt] & 0xC0) == 0x80:
                nxt += 1  # never restart inside a UTF-8 sequence
            pos = nxt


def _reason(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text.replace("\\\\", "\\")


class ByteMap:
    """UTF-8 bytes of a text and the map from byte offsets back to character offsets.

    Offsets are asked for in increasing order (match after match), so the map decodes only
    the bytes between the previous offset and the next one: linear in the text per pass."""

    __slots__ = ("_ascii", "_byte", "_char", "data")

    def __init__(self, text: str) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        self._ascii = len(self.data) == len(text)
        self._byte = 0
        self._char = 0

    def char(self, b: int) -> int:
        """Character offset of byte offset ``b`` (a character boundary)."""
        if self._ascii:
            return b
        if b < self._byte:
            self._byte = self._char = 0
        self._char += len(self.data[self._byte : b].decode("utf-8", "surrogatepass"))
        self._byte = b
        return self._char


def compile_regex(pattern: str) -> SafeRegex:
    """Compile a ``regex:`` term for linear-time matching; ``RegexError`` when impossible."""
    return SafeRegex(pattern)
