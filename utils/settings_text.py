"""Parsing of setting values typed as text."""

from __future__ import annotations

MAX_REMINDER_OFFSETS = 5
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60


def parse_reminder_offsets(text: str) -> tuple[int, ...]:
    """`"60,10"` -> (60, 10): minutes before start, largest first. Raises ValueError with the fix."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    example = "Write minutes before the start separated by commas, for example `60,10`."
    if not parts:
        raise ValueError(f"No reminder offsets given. {example}")
    offsets: set[int] = set()
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"`{part}` is not a whole number of minutes. {example}")
        minutes = int(part)
        if not 1 <= minutes <= MAX_REMINDER_MINUTES:
            raise ValueError(f"`{part}` is out of range: each offset must be 1 to {MAX_REMINDER_MINUTES} minutes.")
        offsets.add(minutes)
    if len(offsets) > MAX_REMINDER_OFFSETS:
        raise ValueError(f"At most {MAX_REMINDER_OFFSETS} reminder offsets are allowed. {example}")
    return tuple(sorted(offsets, reverse=True))
