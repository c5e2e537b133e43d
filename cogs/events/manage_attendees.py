"""What `/event attendees` shows: one field per answer (Going, Interested, Not going, Waitlist,
Attended, in that order) by mention, and the whole list as a CSV once a field can't hold it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.replies import EMBED_FIELD_VALUE_LIMIT
from storage.events import Attendance, Event, Rsvp, going_first
from utils.csv_export import build_csv, time_cells, time_header
from utils.text import shorten
from utils.timefmt import local_iso, utc_iso

CSV_HEADER = (
    "user_id",
    "display_name",
    "status",
    "position",
    *time_header("rsvp_at"),
    "attended",
    "attended_at_utc",
    "source",
    # The slot held or waited for, on an event made from a preset (last, so older sheets keep their columns).
    "slot",
    "attended_at_local",
)
# Status of a member who attended without any RSVP.
WALK_IN = "walk_in"
SECTIONS = (("going", "Going"), ("interested", "Interested"), ("not_going", "Not going"), ("waitlist", "Waitlist"))

NameOf = Callable[[int], str | None]


@dataclass(frozen=True, slots=True)
class AttendeeLists:
    embed: discord.Embed
    cut: bool  # some names did not fit: the CSV carries them


def fit_mentions(user_ids: Sequence[int], limit: int = EMBED_FIELD_VALUE_LIMIT) -> tuple[str, bool]:
    """As many mentions as fit in `limit` characters with a "+N more" tail; True when cut."""
    mentions = [f"<@{user_id}>" for user_id in user_ids]
    if not mentions:
        return "—", False
    joined = ", ".join(mentions)
    if len(joined) <= limit:
        return joined, False
    shown: list[str] = []
    for index, mention in enumerate(mentions):
        rest = len(mentions) - index - 1
        candidate = ", ".join([*shown, mention]) + (f" … +{rest} more" if rest else "")
        if len(candidate) > limit:
            break
        shown.append(mention)
    more = len(mentions) - len(shown)
    return ", ".join(shown) + f" … +{more} more", True


def attendee_lists(event: Event, rsvps: Sequence[Rsvp], attendance: Sequence[Attendance]) -> AttendeeLists:
    by_status: dict[str, list[int]] = {status: [] for status, _ in SECTIONS}
    for rsvp in rsvps:
        by_status.setdefault(rsvp.status, []).append(rsvp.user_id)
    embed = discord.Embed(title=shorten(f"Attendees · {event.title}", 256), colour=discord.Colour.blurple())
    cut = False
    for status, label in SECTIONS:
        members = by_status[status]
        count = f"{len(members)}/{event.capacity}" if status == "going" and event.capacity else str(len(members))
        value, was_cut = fit_mentions(members)
        cut = cut or was_cut
        embed.add_field(name=f"{label} ({count})", value=value, inline=False)
    attended = [row.user_id for row in attendance]
    value, was_cut = fit_mentions(attended)
    embed.add_field(name=f"Attended ({len(attended)})", value=value, inline=False)
    embed.set_footer(text=f"Event #{event.id} · the waitlist in serving order")
    return AttendeeLists(embed, cut or was_cut)


def attendees_csv(
    rsvps: Sequence[Rsvp],
    attendance: Sequence[Attendance],
    timezone: str,
    name_of: NameOf,
    slots: Mapping[int, str] | None = None,
) -> bytes:
    slot_of = slots or {}
    attended = {row.user_id: row for row in attendance}
    rows: list[tuple[object, ...]] = []
    waitlist_position = 0
    for rsvp in going_first(rsvps):
        position: object = ""
        if rsvp.status == "waitlist":
            waitlist_position += 1
            position = waitlist_position
        came = attended.get(rsvp.user_id)
        rows.append(
            (
                rsvp.user_id,
                name_of(rsvp.user_id) or "",
                rsvp.status,
                position,
                *time_cells(rsvp.updated_at, timezone),
                "yes" if came else "no",
                utc_iso(came.attended_at) if came else "",
                came.source if came else "",
                slot_of.get(rsvp.user_id, ""),
                local_iso(came.attended_at, timezone) if came else "",
            )
        )
    answered = {rsvp.user_id for rsvp in rsvps}
    for row in attendance:
        if row.user_id not in answered:
            rows.append(
                (
                    row.user_id,
                    name_of(row.user_id) or "",
                    WALK_IN,
                    "",
                    "",
                    "",
                    "yes",
                    utc_iso(row.attended_at),
                    row.source,
                    "",
                    local_iso(row.attended_at, timezone),
                )
            )
    return build_csv(CSV_HEADER, rows)


def attendees_csv_name(event: Event) -> str:
    return f"event-{event.id}-attendees-{event.starts_at:%Y-%m-%d}.csv"
