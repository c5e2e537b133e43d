"""Repositories write `?` placeholders; asyncpg wants `$1..$n`. Each SQL string is translated once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Everything in which a `?` is text, not a placeholder: string literals (standard, and E'...'
# with backslash escapes), quoted identifiers, comments and dollar-quoted bodies. A quote left
# open matches `unterminated`, so a broken statement is refused instead of half-translated.
_TOKENS = re.compile(
    r"""
      (?P<escape_string>(?<![A-Za-z0-9_$])[Ee]'(?:[^'\\]|\\.|'')*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<identifier>"(?:[^"]|"")*")
    | (?P<line_comment>--[^\n]*)
    | (?P<block_comment>/\*.*?\*/)
    | (?P<dollar>\$(?P<tag>[A-Za-z_][A-Za-z0-9_]*|)\$.*?\$(?P=tag)\$)
    | (?P<placeholder>\?)
    | (?P<unterminated>['"]|/\*)
    """,
    re.VERBOSE | re.DOTALL,
)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Translated:
    sql: str
    placeholders: int
    # Whether the statement itself returns rows for what it wrote (counted by `execute_many`).
    returns_rows: bool


@lru_cache(maxsize=2048)
def translate(sql: str) -> Translated:
    """`sql` with its `?` placeholders numbered `$1..$n`; a `?` inside a literal, a quoted
    identifier or a comment stays as it is. Raises ValueError for a quote or comment left open."""
    parts: list[str] = []
    code: list[str] = []
    count = 0
    position = 0
    for match in _TOKENS.finditer(sql):
        between = sql[position : match.start()]
        parts.append(between)
        code.append(between)
        kind = match.lastgroup if match.lastgroup != "tag" else "dollar"
        if kind == "placeholder":
            count += 1
            parts.append(f"${count}")
        elif kind == "unterminated":
            raise ValueError(f"unterminated quote or comment in SQL at {match.start()}: {sql[:80]!r}")
        else:
            parts.append(match.group())
            code.append(" ")
        position = match.end()
    parts.append(sql[position:])
    code.append(sql[position:])
    return Translated("".join(parts), count, bool(_RETURNING.search("".join(code))))
