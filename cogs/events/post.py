"""What an event's post looks like: the embed and its RSVP buttons. Pure rendering from rows,
so the coalesced refresh (and a restart) always shows what the database holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import discord

from bot.tree import RollcallView
from cogs.events.buttons import RSVP_BUTTONS
from cogs.events.slots import SlotSelect, slot_fields
from storage.event_reviews import ReviewSummary
from storage.event_slots import SlotView
from storage.events import Event, EventStatus
from utils.text import join_some
from utils.timefmt import discord_timestamp

# Members named in the Going list; the rest are counted ("+N more").
GOING_SHOWN = 25

STATUS_LOOK: dict[EventStatus, tuple[str, discord.Colour]] = {
    "upcoming": ("🗓️ Upcoming", discord.Colour.blurple()),
    "active": ("🟢 Happening now", discord.Colour.green()),
    "ended": ("Ended", discord.Colour.dark_grey()),
    "cancelled": ("❌ Cancelled", discord.Colour.red()),
}


def going_label(counts: Mapping[str, int], capacity: int | None) -> str:
    going = counts.get("going", 0)
    return f"Going ({going}/{capacity})" if capacity is not None else f"Going ({going})"


def render_post(
    event: Event,
    counts: Mapping[str, int],
    going_names: Sequence[str],
    now: datetime,
    timezone: str,
    *,
    reviews: ReviewSummary | None = None,
    slots: Sequence[SlotView] = (),
) -> discord.Embed:
    """The post's embed. `going_names` are the Going members' mentions in seat order;
    `timezone` is the guild's, named in the footer because it is the zone times were typed in.
    A slotted event lists its members slot by slot (`Tank 1/2`) instead."""
    status = event.status_at(now)
    label, colour = STATUS_LOOK[status]
    embed = discord.Embed(title=event.title, description=event.description or None, colour=colour)
    embed.add_field(name="Status", value=label, inline=True)
    embed.add_field(
        name="Starts",
        value=f"{discord_timestamp(event.starts_at, 'F')}\n{discord_timestamp(event.starts_at, 'R')}",
        inline=True,
    )
    embed.add_field(
        name="Ends",
        value=f"{discord_timestamp(event.ends_at, 'F')}\n{discord_timestamp(event.ends_at, 'R')}",
        inline=True,
    )
    if event.location:
        embed.add_field(name="Location", value=event.location, inline=False)
    if slots:
        for index, chunk in enumerate(slot_fields(slots)):
            name = going_label(counts, event.capacity) if index == 0 else "\u200b"
            embed.add_field(name=name, value=chunk, inline=False)
    else:
        shown, more = join_some(list(going_names), shown=GOING_SHOWN)
        if more:
            shown += f" +{more} more"
        embed.add_field(name=going_label(counts, event.capacity), value=shown or "Nobody yet", inline=False)
    embed.add_field(name="Waitlist", value=str(counts.get("waitlist", 0)), inline=True)
    embed.add_field(name="Interested", value=str(counts.get("interested", 0)), inline=True)
    details = []
    if event.role_id is not None:
        details.append(f"Open to <@&{event.role_id}>")
    if event.signup_cutoff_at is not None and status == "upcoming":
        details.append(f"Sign-ups close {discord_timestamp(event.signup_cutoff_at, 'R')}")
    if details:
        embed.add_field(name="Sign-ups", value="\n".join(details), inline=False)
    if reviews is not None and reviews.count:
        embed.add_field(name="Reviews", value=reviews.describe(), inline=False)
    embed.set_footer(text=f"Event #{event.id} · organized in {timezone}")
    return embed


def post_view(event: Event, now: datetime, slots: Sequence[SlotView] = ()) -> discord.ui.View | None:
    """The RSVP buttons (and the slot menu of a slotted event), or None (no components) once
    the event is over or cancelled."""
    if event.status_at(now) in ("ended", "cancelled"):
        return None
    view = RollcallView(timeout=None)
    if slots:
        view.add_item(SlotSelect(event.id, slots))
    for button in RSVP_BUTTONS:
        view.add_item(button(event.id))
    return view
