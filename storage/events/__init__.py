"""Events, RSVPs with capacity and a waitlist, and attendance (SPEC section 4): the records
(models) and their repository."""

from storage.events.models import (
    CHOSEN_STATUSES,
    Attendance,
    AttendanceSource,
    Event,
    EventSearch,
    EventStatus,
    ListWhen,
    Rsvp,
    RsvpChange,
    RsvpStatus,
    going_first,
)
from storage.events.repository import EventRepository

__all__ = [
    "CHOSEN_STATUSES",
    "Attendance",
    "AttendanceSource",
    "Event",
    "EventRepository",
    "EventSearch",
    "EventStatus",
    "ListWhen",
    "Rsvp",
    "RsvpChange",
    "RsvpStatus",
    "going_first",
]
