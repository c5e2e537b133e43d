"""The CSV files of `/export` and `/report format:csv`, all through utils/csv_export. Each is a
`Table` (header, items, one item's row) so bot/progress.py can write a large one in steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.members import NameOf
from storage.event_slots import SlotSignup
from storage.events import Attendance, Event, Rsvp, going_first
from storage.reports import EventTally, MemberTally, SessionRecord
from utils.csv_export import Table, time_cells, time_header

SESSIONS_HEADER = (
    "session_id",
    "channel_id",
    "event_id",
    *time_header("opened_at"),
    "user_id",
    "user_name",
    "display_name",
    "status",
    *time_header("submitted_at"),
    "corrected_by_id",
    *time_header("corrected_at"),
)
MEMBERS_HEADER = (
    "user_id",
    "display_name",
    "present",
    "late",
    "absent",
    "excused",
    "sessions_attended",
    "sessions_counted",
    "attendance_rate",
    "events_going",
    "events_attended",
    "no_shows",
    "walk_ins",
)
EVENTS_HEADER = (
    "event_id",
    "title",
    *time_header("starts_at"),
    "going",
    "attended",
    "no_shows",
    "walk_ins",
)

EVENT_HEADER = (
    "user_id",
    "display_name",
    # going, interested, not_going or waitlist; empty for a walk-in who never answered.
    "rsvp_status",
    # 1 = the next to be seated (in their slot's own queue on an event with slots).
    "waitlist_position",
    "slot",
    *time_header("rsvp_at"),
    "attended",
    *time_header("attended_at"),
    "attendance_source",
    "no_show",
    "walk_in",
)


def rate_text(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or empty when there was nothing to count."""
    return "" if rate is None else f"{rate * 100:.1f}"


def sessions_table(records: Sequence[SessionRecord], timezone: str) -> Table[SessionRecord]:
    def row_of(item: SessionRecord) -> tuple[object, ...]:
        return (
            item.session.id,
            item.session.channel_id,
            item.session.event_id or "",
            *time_cells(item.session.opened_at, timezone),
            item.record.user_id,
            item.record.user_name,
            item.record.display_name,
            item.record.status,
            *time_cells(item.record.submitted_at, timezone),
            item.record.corrected_by or "",
            *time_cells(item.record.corrected_at, timezone),
        )

    return Table(SESSIONS_HEADER, records, row_of)


def ordered_members(members: Sequence[MemberTally], name_of: NameOf) -> list[tuple[str, MemberTally]]:
    named = [(name_of(member.user_id) or member.display_name or str(member.user_id), member) for member in members]
    return sorted(named, key=lambda pair: (pair[0].lower(), pair[1].user_id))


def _member_row(pair: tuple[str, MemberTally]) -> tuple[object, ...]:
    name, member = pair
    return (
        member.user_id,
        name,
        member.present,
        member.late,
        member.absent,
        member.excused,
        member.sessions_attended,
        member.sessions_counted,
        rate_text(member.rate),
        member.events_going,
        member.events_attended,
        member.no_shows,
        member.walk_ins,
    )


def members_table(members: Sequence[MemberTally], name_of: NameOf) -> Table[tuple[str, MemberTally]]:
    return Table(MEMBERS_HEADER, ordered_members(members, name_of), _member_row)


def events_table(events: Sequence[EventTally], timezone: str) -> Table[EventTally]:
    def row_of(event: EventTally) -> tuple[object, ...]:
        return (
            event.event_id,
            event.title,
            *time_cells(event.starts_at, timezone),
            event.going,
            event.attended,
            event.no_shows,
            event.walk_ins,
        )

    return Table(EVENTS_HEADER, events, row_of)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _waitlist_positions(rsvps: Sequence[Rsvp], signups: Sequence[SlotSignup]) -> dict[int, int]:
    """1 for the next to be seated. Slot waitlists are served per slot; an event without slots
    has one queue, in click order."""
    in_slot = {signup.user_id for signup in signups}
    positions: dict[int, int] = {}
    queue = 0
    for rsvp in sorted(rsvps, key=lambda item: item.sequence):
        if rsvp.status == "waitlist" and rsvp.user_id not in in_slot:
            queue += 1
            positions[rsvp.user_id] = queue
    per_slot: dict[int, int] = {}
    for signup in sorted(signups, key=lambda item: (item.position, item.sequence)):
        if signup.status == "waitlist":
            per_slot[signup.position] = per_slot.get(signup.position, 0) + 1
            positions[signup.user_id] = per_slot[signup.position]
    return positions


def event_table(
    event: Event,
    rsvps: Sequence[Rsvp],
    attendance: Sequence[Attendance],
    signups: Sequence[SlotSignup],
    slot_names: Mapping[int, str],
    *,
    timezone: str,
    now: datetime,
    name_of: NameOf,
) -> Table[tuple[int, Rsvp | None]]:
    """One row per member with any tie to the event: their RSVP, waitlist place, slot and
    attendance, in `/event attendees` order, then walk-ins who never answered by arrival.

    A walk-in attended without saying Going, as in `/report`. No-shows are only known once the
    event has ended (until then a member who said Going may still come), so before that the
    column is empty on every row."""
    attended = {row.user_id: row for row in attendance}
    slot_of = {signup.user_id: slot_names.get(signup.position, "") for signup in signups}
    positions = _waitlist_positions(rsvps, signups)
    ended = event.ends_at <= now

    def row_of(pair: tuple[int, Rsvp | None]) -> tuple[object, ...]:
        user_id, rsvp = pair
        came = attended.get(user_id)
        going = rsvp is not None and rsvp.status == "going"
        return (
            user_id,
            name_of(user_id) or "",
            rsvp.status if rsvp else "",
            positions.get(user_id, "") if rsvp and rsvp.status == "waitlist" else "",
            slot_of.get(user_id, ""),
            *time_cells(rsvp.updated_at if rsvp else None, timezone),
            _yes(came is not None),
            *time_cells(came.attended_at if came else None, timezone),
            came.source if came else "",
            _yes(going and came is None) if ended else "",
            _yes(came is not None and not going),
        )

    answered = {rsvp.user_id for rsvp in rsvps}
    items: list[tuple[int, Rsvp | None]] = [(rsvp.user_id, rsvp) for rsvp in going_first(rsvps)]
    items += [(row.user_id, None) for row in attendance if row.user_id not in answered]
    return Table(EVENT_HEADER, items, row_of)
