"""Parsing of setting values typed as text."""

from __future__ import annotations

import re

from utils.limits import MAX_REMINDER_OFFSETS, REMINDER_MINUTES
from utils.text import shorten

REMINDER_OFFSETS_FORM = (
    f"Reminder offsets are up to {MAX_REMINDER_OFFSETS} whole numbers of minutes before the start, each "
    f"{REMINDER_MINUTES.low} to {REMINDER_MINUTES.high}, separated by commas, like `60,10`"
)
# ASCII digits only: str.isdigit() also accepts `²` and other digits that int() then rejects.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
_ECHO_LIMIT = 20


def _echo(part: str) -> str:
    """The refused value as typed, short enough to quote in a message, without breaking its code span."""
    return shorten(part, _ECHO_LIMIT).replace("`", "'")


def parse_reminder_offsets(text: str) -> tuple[int, ...]:
    """`"60,10"` -> (60, 10): minutes before start, largest first, repeats merged.
    Raises ValueError with a sentence naming the accepted form and the refused value."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ValueError(f"{REMINDER_OFFSETS_FORM}; you gave none.")
    low, high = REMINDER_MINUTES.bounds
    offsets: set[int] = set()
    for part in parts:
        if not _WHOLE_NUMBER.fullmatch(part):
            raise ValueError(f"{REMINDER_OFFSETS_FORM}; `{_echo(part)}` is not one.")
        magnitude = part.lstrip("+-").lstrip("0")
        # Measuring first keeps int() away from Python's own limit (and its message) on very long numbers.
        minutes = high + 1 if len(magnitude) > len(str(high)) else int(magnitude or "0")
        if part.startswith("-") or minutes < low:
            raise ValueError(f"{REMINDER_OFFSETS_FORM}; `{_echo(part)}` is not one: reminders come before the start.")
        if minutes > high:
            raise ValueError(f"{REMINDER_OFFSETS_FORM}; `{_echo(part)}` is more than {high} minutes.")
        offsets.add(minutes)
    if len(offsets) > MAX_REMINDER_OFFSETS:
        raise ValueError(f"{REMINDER_OFFSETS_FORM}; you gave {len(offsets)} different values.")
    return tuple(sorted(offsets, reverse=True))
