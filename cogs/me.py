"""/me: a member's own settings. Today: `/me reminders off|on` for event reminder DMs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from bot.replies import send_reply

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.types import Interaction
    from storage.event_reminders import EventReminderRepository

REMINDER_CHOICES = [
    app_commands.Choice(name="off", value="off"),
    app_commands.Choice(name="on", value="on"),
]


class Me(commands.Cog):
    me_group = app_commands.Group(name="me", description="Your own Rollcall settings", guild_only=True)

    def __init__(self, *, reminders: EventReminderRepository, clock: Clock) -> None:
        self.reminders = reminders
        self.clock = clock

    @me_group.command(name="reminders", description="Turn your event reminder DMs in this server off or on")
    @app_commands.describe(state="off: no reminder DMs from this server's events; on: reminders again")
    @app_commands.choices(state=REMINDER_CHOICES)
    async def me_reminders(self, interaction: Interaction, state: app_commands.Choice[str]) -> None:
        off = state.value == "off"
        changed = await self.reminders.set_opt_out(
            interaction.guild_id or 0, interaction.user.id, off=off, now=self.clock.now()
        )
        if off:
            text = (
                "🔕 Event reminders are off for you in this server: I won't DM you before events. "
                "`/me reminders on` turns them back on."
                if changed
                else "🔕 Your event reminders here were already off."
            )
        else:
            text = (
                "🔔 Event reminders are on again: I'll DM you before the events you're going to."
                if changed
                else "🔔 Your event reminders here were already on."
            )
        await send_reply(interaction, text)


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(Me(reminders=bot.event_reminders, clock=bot.clock))
