"""Slots typed as text, like `Tank 2, Healer 2 @Healers, DPS 6` (commas or one per line), read
into names, seat counts and the role each may ask for. Pure: roles are given back as typed and
matched against the server by the caller."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from utils.limits import MAX_SLOTS, SLOT_NAME, SLOT_SEATS
from utils.text import shorten

EXAMPLE = "`Tank 2, Healer 2, DPS 6` (or one per line; a role after the number: `Healer 2 @Healers`)"
# A name, then the seats (`Tank 2`, `Tank x2`, `Tank: 2`), then optionally a role (`@Healers` or a
# pasted role mention). The name is matched lazily, so `Team 2 3` is the slot `Team 2` with 3 seats.
_ENTRY = re.compile(
    r"^(?P<name>.*?)\s*(?::|\s)\s*[x×]?(?P<count>[+-]?[0-9]+)(?:\s+(?P<role>@.+|<@&[0-9]+>))?$", re.IGNORECASE
)
_SEPARATORS = re.compile(r"[,\n;]")


class SlotsRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class TypedSlot:
    name: str
    seats: int
    # As typed: `@Healers` or `<@&123>`; None when the slot is open to anyone.
    role: str | None = None


def _quoted(text: str) -> str:
    return "`" + shorten(text.replace("`", "'"), 60) + "`"


def clean_name(text: str) -> str:
    """One form of a name: NFC (so an é typed two ways is one name) and single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def name_key(name: str) -> str:
    """What makes two names the same name: case and spacing do not."""
    return clean_name(name).casefold()


def parse_slots(text: str) -> list[TypedSlot]:
    """The slots in the order typed; `SlotsRefused` names the first entry that can't be read."""
    entries = [entry.strip() for entry in _SEPARATORS.split(text)]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise SlotsRefused(f"No slots were given. Write them like {EXAMPLE}.")
    if len(entries) > MAX_SLOTS:
        raise SlotsRefused(
            f"That is {len(entries)} slots; at most {MAX_SLOTS} fit (a select menu offers 25 choices). "
            f"Merge some, like {EXAMPLE}."
        )
    slots: list[TypedSlot] = []
    seen: dict[str, str] = {}
    for entry in entries:
        match = _ENTRY.match(entry)
        if match is None:
            raise SlotsRefused(
                f"I couldn't find a whole number of seats in {_quoted(entry)}. "
                f"Write a name then a number, like {EXAMPLE}."
            )
        name = clean_name(match["name"])
        if not name:
            raise SlotsRefused(f"{_quoted(entry)} has no slot name before its number. Write it like {EXAMPLE}.")
        if "@" in name or "<" in name:
            raise SlotsRefused(
                f"In {_quoted(entry)} the role must come after the number, like `Healer 2 @Healers`; "
                f"slots are written like {EXAMPLE}."
            )
        if len(name) > SLOT_NAME.high:
            raise SlotsRefused(
                f"The slot name {_quoted(name)} is {len(name)} characters; at most {SLOT_NAME.high} fit. "
                f"Short names read best, like {EXAMPLE}."
            )
        seats = int(match["count"])
        if not SLOT_SEATS.low <= seats <= SLOT_SEATS.high:
            raise SlotsRefused(
                f"{_quoted(entry)} asks for {seats} seats; a slot takes {SLOT_SEATS.low} to {SLOT_SEATS.high}. "
                f"Write it like {EXAMPLE}."
            )
        key = name_key(name)
        if key in seen:
            raise SlotsRefused(
                f"The slot {_quoted(name)} is given twice (names ignore case). Give each slot once with its total, "
                f"like {EXAMPLE}."
            )
        seen[key] = name
        role = match["role"].strip() if match["role"] else None
        slots.append(TypedSlot(name, seats, role))
    return slots


def slots_text(slots: Sequence[TypedSlot]) -> str:
    """Slots written back the way `parse_slots` reads them, one per line (the edit form)."""
    return "\n".join(f"{slot.name} {slot.seats}" + (f" {slot.role}" if slot.role else "") for slot in slots)
