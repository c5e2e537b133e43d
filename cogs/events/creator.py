"""Who may manage one event: admins (Manage Server) and the organizer role through bot/checks.py,
in the admin channel when one is set, and the member who created it, from any channel. Used by
`/event edit` and `/event cancel` (and their modal submits and confirm clicks, which come later
and may find the role gone) and by `/export event`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

import discord
from discord import app_commands

from bot.checks import ensure_staff, is_admin, is_organizer
from bot.errors import NotAllowed
from cogs.events.listing import find_event
from utils.text import shorten

if TYPE_CHECKING:
    from bot.types import Interaction
    from storage.events import Event, EventRepository
    from storage.guild_config import GuildConfigRepository

T = TypeVar("T")


async def ensure_may_manage(interaction: Interaction, configs: GuildConfigRepository, event: Event, doing: str) -> None:
    """The creator of an event may `doing` it anywhere; otherwise the organizer check of
    bot/checks.py (admins or the organizer role, in the admin channel when one is set)."""
    if interaction.user.id == event.created_by:
        return
    member = interaction.user
    if not isinstance(member, discord.Member):
        raise NotAllowed("This command only works inside a server.")
    config = await configs.get(event.guild_id)
    if not (is_admin(member, interaction.permissions) or is_organizer(member, config)):
        raise NotAllowed(
            f"Only server admins (Manage Server), the organizer role and the member who created "
            f"**{shorten(event.title, 80)}** can {doing} it."
        )
    await ensure_staff(interaction, organizers_allowed=True)


@runtime_checkable
class HoldsEvents(Protocol):
    """A cog whose command takes an `event` option: the Events cog, or `/export event`'s."""

    events: EventRepository
    configs: GuildConfigRepository


def creator_or_staff(doing: str) -> Callable[[T], T]:
    """The in-code check of edit, cancel and `/export event`: reads the `event` option, so the
    creator passes."""

    async def predicate(interaction: Interaction) -> bool:
        cog = interaction.command.binding if interaction.command is not None else None
        event_id = getattr(interaction.namespace, "event", None)
        if not isinstance(cog, HoldsEvents) or not isinstance(event_id, int):
            await ensure_staff(interaction, organizers_allowed=True)
            return True
        event = await find_event(cog.events, interaction.guild_id, event_id)
        await ensure_may_manage(interaction, cog.configs, event, doing)
        return True

    def decorator(command: T) -> T:
        return app_commands.check(predicate)(command)

    return decorator
