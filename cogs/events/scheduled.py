"""The Discord scheduled event that mirrors each event, when the bot may make one.

Since February 2026 creating a guild scheduled event needs the Create Events permission (Manage
Events alone is not enough); editing or cancelling one the bot created needs either. The mirror
is an external event (a location of 1 to 100 characters, an end time, no channel) whose id is
kept on the event's row. Discord itself moves external events to active at their start and to
completed at their end, so the mirror reads the scheduled event first and never edits a
completed (or cancelled) one. Without the permission nothing is mirrored and nothing fails:
`/config show` says so in one line (`scheduled_events_line`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord

from bot.delivery import DELIVERY_ERRORS
from cogs.events.listing import event_link
from utils.text import shorten

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from storage.events import Event, EventRepository

log = logging.getLogger(__name__)

# Discord's bounds for a scheduled event.
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 1_000
LOCATION_LIMIT = 100
NO_LOCATION = "See the event post"
FINISHED = (discord.EventStatus.completed, discord.EventStatus.cancelled)


def scheduled_events_line(guild: discord.Guild | None) -> str | None:
    """One line for /config show when events cannot be mirrored, else None."""
    if guild is None or guild.me is None:
        return None
    if guild.me.guild_permissions.create_events:
        return None
    return (
        "Events are not mirrored to Discord's scheduled events: give my role **Create Events** "
        "(Manage Events alone is not enough) to have each event listed there too."
    )


def mirror_fields(event: Event) -> dict[str, object]:
    link = event_link(event)
    description = shorten(event.description, DESCRIPTION_LIMIT - (len(link) + 2 if link else 0))
    if link:
        description = f"{description}\n\n{link}" if description else link
    return {
        "name": shorten(event.title, NAME_LIMIT),
        "description": description,
        "location": shorten(event.location, LOCATION_LIMIT) if event.location.strip() else NO_LOCATION,
        "end_time": event.ends_at,
    }


class EventScheduledMirror:
    """Mixin of the Events cog (see cogs/events/__init__.py)."""

    bot: Rollcall
    events: EventRepository
    clock: Clock

    async def mirror_scheduled_event(self, event_id: int) -> None:
        """Create, update or cancel the event's scheduled event to match its row, when allowed.
        Called after every create, edit and cancel; a failure is logged and changes nothing."""
        event = await self.events.get(event_id)
        if event is None:
            return
        guild = self.bot.get_guild(event.guild_id)
        if guild is None or guild.me is None:
            return
        try:
            if event.scheduled_event_id is None:
                await self._create_mirror(guild, event)
            else:
                await self._update_mirror(guild, event, event.scheduled_event_id)
        except DELIVERY_ERRORS as error:
            log.warning("Scheduled event for event %s in guild %s not mirrored: %r", event.id, guild.id, error)

    async def _create_mirror(self, guild: discord.Guild, event: Event) -> None:
        now = self.clock.now()
        # Discord takes no scheduled event that starts in the past.
        if event.cancelled_at is not None or event.starts_at <= now:
            return
        if not guild.me.guild_permissions.create_events:
            log.info("No Create Events permission in guild %s; event %s is not mirrored", guild.id, event.id)
            return
        fields = mirror_fields(event)
        created = await guild.create_scheduled_event(
            name=str(fields["name"]),
            description=str(fields["description"]),
            start_time=event.starts_at,
            end_time=event.ends_at,
            location=str(fields["location"]),
            entity_type=discord.EntityType.external,
            privacy_level=discord.PrivacyLevel.guild_only,
            reason=f"Rollcall event #{event.id}",
        )
        await self.events.set_scheduled_event(event.id, created.id)

    async def _update_mirror(self, guild: discord.Guild, event: Event, scheduled_id: int) -> None:
        granted = guild.me.guild_permissions
        if not (granted.create_events or granted.manage_events):
            log.info("No Create or Manage Events permission in guild %s; mirror of event %s kept", guild.id, event.id)
            return
        try:
            mirror = await guild.fetch_scheduled_event(scheduled_id)
        except discord.NotFound:
            # Deleted in Discord by someone: the event no longer has a mirror to keep.
            await self.events.set_scheduled_event(event.id, None)
            return
        if mirror.status in FINISHED:
            return
        reason = f"Rollcall event #{event.id}"
        if event.cancelled_at is not None:
            if mirror.status is discord.EventStatus.active:
                await mirror.end(reason=reason)
            else:
                await mirror.cancel(reason=reason)
            return
        fields = mirror_fields(event)
        changes: dict[str, object] = {
            "name": fields["name"],
            "description": fields["description"],
            "location": fields["location"],
            "end_time": event.ends_at,
        }
        # An active event's start has happened; Discord refuses to move it.
        if mirror.status is discord.EventStatus.scheduled:
            changes["start_time"] = event.starts_at
        await mirror.edit(reason=reason, **changes)  # type: ignore[arg-type]
