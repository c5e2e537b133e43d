"""The CSV files of `/export` and `/report format:csv`, all through utils/csv_export."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from storage.reports import EventTally, MemberTally, SessionRecord
from utils.csv_export import build_csv, time_cells, time_header

NameOf = Callable[[int], str | None]

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


def rate_text(rate: float | None) -> str:
    """A rate as a percentage with one decimal, or empty when there was nothing to count."""
    return "" if rate is None else f"{rate * 100:.1f}"


def sessions_range_csv(records: Sequence[SessionRecord], timezone: str) -> bytes:
    rows = [
        (
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
        for item in records
    ]
    return build_csv(SESSIONS_HEADER, rows)


def ordered_members(members: Sequence[MemberTally], name_of: NameOf) -> list[tuple[str, MemberTally]]:
    named = [(name_of(member.user_id) or member.display_name or str(member.user_id), member) for member in members]
    return sorted(named, key=lambda pair: (pair[0].lower(), pair[1].user_id))


def members_csv(members: Sequence[MemberTally], name_of: NameOf) -> bytes:
    rows = [
        (
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
        for name, member in ordered_members(members, name_of)
    ]
    return build_csv(MEMBERS_HEADER, rows)


def events_csv(events: Sequence[EventTally], timezone: str) -> bytes:
    rows = [
        (
            event.event_id,
            event.title,
            *time_cells(event.starts_at, timezone),
            event.going,
            event.attended,
            event.no_shows,
            event.walk_ins,
        )
        for event in events
    ]
    return build_csv(EVENTS_HEADER, rows)
