"""Text that must fit a size limit: member input echoed back, and long lists shown in part."""

from __future__ import annotations

from collections.abc import Sequence

ELLIPSIS = "…"
# How much of a member's own input a refusal shows: enough to recognise it, never a wall of text.
ECHO_LIMIT = 100


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)] + ELLIPSIS


def echo(value: object) -> str:
    """A member's input as a refusal quotes it back to them."""
    return shorten(str(value), ECHO_LIMIT)


def join_some(items: Sequence[str], *, shown: int, separator: str = ", ") -> tuple[str, int]:
    """The first `shown` items joined, and how many were left out."""
    return separator.join(items[:shown]), max(len(items) - shown, 0)
