"""The records of events: the event, a member's RSVP, the change one RSVP made, an attendance,
and the filters of `/event list`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.backend import Row
from storage.rows import from_row

RsvpStatus = Literal["going", "waitlist", "interested", "not_going"]
# What a member may ask for; the waitlist is where "going" lands when the event is full.
CHOSEN_STATUSES: tuple[RsvpStatus, ...] = ("going", "interested", "not_going")
EventStatus = Literal["upcoming", "active", "ended", "cancelled"]
ListWhen = Literal["upcoming", "active", "past", "all"]
AttendanceSource = Literal["command", "roll_call", "organizer"]


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None
    created_by: int
    created_at: datetime
    title: str
    description: str
    location: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    role_id: int | None
    signup_cutoff_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: int | None
    post_stale_since: datetime | None
    post_refreshed_at: datetime | None
    # Recurring events (storage/event_series.py): the series and the place in it, or None.
    series_id: int | None = None
    series_index: int | None = None
    # The Discord scheduled event mirroring this one (cogs/events/scheduled.py), or None.
    scheduled_event_id: int | None = None

    @classmethod
    def from_row(cls, row: Row) -> Event:
        return from_row(cls, row)

    def status_at(self, now: datetime) -> EventStatus:
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.starts_at:
            return "upcoming"
        if now < self.ends_at:
            return "active"
        return "ended"

    def signups_closed_at(self, now: datetime) -> bool:
        """RSVPs are refused from the cutoff (or the start, when there is none) on."""
        closes = self.signup_cutoff_at or self.starts_at
        return now >= closes


@dataclass(frozen=True, slots=True)
class Rsvp:
    event_id: int
    user_id: int
    status: str
    sequence: int
    updated_at: datetime
    set_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> Rsvp:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class RsvpChange:
    """What one RSVP did: the member's status before and after, and who moved up from the
    waitlist because a seat freed (in the order they were seated)."""

    before: str | None
    after: str
    promoted: tuple[int, ...] = ()
    # Set when the event was gone or cancelled at decision time: nothing was written.
    refused: str | None = None
    # 1 for the next member to be seated, when `after` is the waitlist.
    position: int | None = None

    @property
    def changed(self) -> bool:
        return self.refused is None and self.before != self.after


@dataclass(frozen=True, slots=True)
class Attendance:
    event_id: int
    user_id: int
    attended_at: datetime
    source: str
    session_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> Attendance:
        return from_row(cls, row)


@dataclass(frozen=True, slots=True)
class EventSearch:
    """Filters of `/event list`; `text` matches title, description and location, any case."""

    guild_id: int
    when: ListWhen = "upcoming"
    text: str = ""
    starts_from: datetime | None = None
    starts_to: datetime | None = None


def going_first(rsvps: Sequence[Rsvp]) -> list[Rsvp]:
    """RSVPs in the order `/event attendees` lists them: going, interested, not going, waitlist."""
    rank = {"going": 0, "interested": 1, "not_going": 2, "waitlist": 3}
    return sorted(rsvps, key=lambda rsvp: (rank.get(rsvp.status, 9), rsvp.sequence))
