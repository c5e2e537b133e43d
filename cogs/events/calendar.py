"""/event ics: one event, or every upcoming event of the server, as an iCalendar attachment that
calendar programs import.

Each event keeps one UID (`event-<id>@rollcall.<guild id>`), so importing the file again updates
the entries instead of doubling them; times are UTC; a cancelled event is STATUS:CANCELLED; the
latest occurrence of a running series carries its RRULE (what is left of the series from there).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
import icalendar
from discord import app_commands

from bot.errors import NotAllowed
from bot.replies import send_reply
from cogs.events.group import event_group
from cogs.events.listing import EventListCommands, event_link, find_event
from storage.event_series import Series
from storage.events import Event, EventSearch
from utils.recurrence import remaining_count
from utils.when import day_start

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.types import Interaction
    from storage.event_series import SeriesRepository
    from storage.events import EventRepository

PRODID = "-//Rollcall//Discord events//EN"
# More than a server plans ahead; the file stays a reasonable attachment.
ICS_EVENT_LIMIT = 500
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def event_uid(event: Event) -> str:
    return f"event-{event.id}@rollcall.{event.guild_id}"


def series_rule(series: Series, event: Event) -> dict[str, object] | None:
    """The RRULE of the series from `event` on, in UTC terms, or None when nothing repeats after it.

    The rule's days are the series' local days: when the UTC start falls on another calendar day
    than the local one (a late evening west of Greenwich), BYDAY is shifted by that difference."""
    rule: dict[str, object]
    if series.rule == "daily":
        rule = {"FREQ": "DAILY"}
    elif series.rule == "every_n_days":
        rule = {"FREQ": "DAILY", "INTERVAL": series.every_days or 1}
    elif series.rule == "weekly":
        rule = {"FREQ": "WEEKLY"}
    else:
        local_day = event.starts_at.astimezone(ZoneInfo(series.timezone)).date()
        shift = (event.starts_at.date() - local_day).days
        rule = {"FREQ": "WEEKLY", "BYDAY": [WEEKDAYS[(day + shift) % 7] for day in range(5)]}
    count = remaining_count(series.max_count, event.series_index or series.last_index)
    if count is not None:
        if count <= 1:
            return None
        rule["COUNT"] = count
    until = series.until
    if until is not None:
        # The last moment of the last local day, as UTC (RFC 5545: UNTIL in UTC with a UTC DTSTART).
        rule["UNTIL"] = day_start(until + timedelta(days=1), series.timezone) - timedelta(seconds=1)
    return rule


def build_calendar(events: Sequence[Event], series: dict[int, Series], *, now: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for event in events:
        entry = icalendar.Event()
        entry.add("uid", event_uid(event))
        entry.add("dtstamp", now)
        entry.add("dtstart", event.starts_at)
        entry.add("dtend", event.ends_at)
        entry.add("summary", event.title)
        if event.description:
            entry.add("description", event.description)
        if event.location:
            entry.add("location", event.location)
        link = event_link(event)
        if link:
            entry.add("url", link)
        entry.add("status", "CANCELLED" if event.cancelled_at is not None else "CONFIRMED")
        owner = series.get(event.series_id) if event.series_id is not None else None
        if owner is not None and owner.open and owner.last_event_id == event.id and event.cancelled_at is None:
            rule = series_rule(owner, event)
            if rule is not None:
                entry.add("rrule", rule)
        calendar.add_component(entry)
    return calendar.to_ical()


class EventCalendarCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py)."""

    events: EventRepository
    event_series: SeriesRepository
    clock: Clock

    @event_group.command(name="ics", description="Get an event, or all upcoming events, as a calendar file (.ics)")
    @app_commands.describe(event="One event (start typing its title); leave empty for all upcoming events")
    @app_commands.autocomplete(event=EventListCommands.event_autocomplete)
    async def event_ics(self, interaction: Interaction, event: int | None = None) -> None:
        if interaction.guild_id is None:
            raise NotAllowed("This command only works inside a server.")
        now = self.clock.now()
        if event is not None:
            found = [await find_event(self.events, interaction.guild_id, event)]
            name = f"event-{found[0].id}.ics"
            said = f"**{found[0].title}** as a calendar file: open it, or import it into your calendar."
        else:
            # Cancelled ones too, so a calendar that imported them earlier learns they are off.
            search = EventSearch(guild_id=interaction.guild_id, when="all", starts_from=now)
            found = await self.events.search(search, now=now, limit=ICS_EVENT_LIMIT)
            name = "rollcall-events.ics"
            if not found:
                await send_reply(interaction, "No upcoming events in this server, so there is nothing to export.")
                return
            said = (
                f"{len(found)} upcoming event{'s' if len(found) != 1 else ''} as a calendar file: open it, or "
                "import it into your calendar (importing it again updates the same entries)."
            )
        series: dict[int, Series] = {}
        for item in found:
            if item.series_id is not None and item.series_id not in series:
                owner = await self.event_series.get(item.series_id)
                if owner is not None:
                    series[owner.id] = owner
        data = build_calendar(found, series, now=now)
        await send_reply(interaction, said, files=[discord.File(io.BytesIO(data), filename=name)])
