"""/event list and the shared `event` option autocomplete (MANAGE fills the list command)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from discord import app_commands

from bot.checks import staff_autocomplete
from bot.types import Interaction
from storage.events import Event, EventRepository
from utils.timefmt import local_text

if TYPE_CHECKING:
    from bot.clock import Clock
    from storage.guild_config import GuildConfigRepository

# The most choices Discord shows for one autocomplete.
AUTOCOMPLETE_CHOICES = 25


def event_choices(events: Sequence[Event], timezone: str) -> list[app_commands.Choice[int]]:
    return [
        app_commands.Choice(name=f"{event.title[:70]} · {local_text(event.starts_at, timezone)}", value=event.id)
        for event in events[:AUTOCOMPLETE_CHOICES]
    ]


async def matching_events(
    events: EventRepository, configs: GuildConfigRepository, guild_id: int | None, current: str, now: datetime
) -> list[app_commands.Choice[int]]:
    """This guild's events whose title contains `current`, not-ended ones soonest first."""
    if guild_id is None:
        return []
    config = await configs.get(guild_id)
    found = await events.list_for_autocomplete(guild_id, current, now=now, limit=AUTOCOMPLETE_CHOICES)
    return event_choices(found, config.timezone)


class EventListCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py)."""

    events: EventRepository
    configs: GuildConfigRepository
    clock: Clock

    @staff_autocomplete
    async def event_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        """Every `event` option of /event. staff_autocomplete reads the audience of the command
        being completed, so an organizer command's choices stay empty for members."""
        return await matching_events(self.events, self.configs, interaction.guild_id, current, self.clock.now())
