"""/me: a member's own settings and record: `/me reminders off|on` for event reminder DMs, and
`/me attendance` (their own attendance only, ephemeral, with a small chart)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from bot.replies import send_reply
from cogs.reports.history import FORMAT_CHOICES, FORMAT_HELP, FROM_HELP, TO_HELP, MemberHistory

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

    def __init__(self, *, reminders: EventReminderRepository, history: MemberHistory, clock: Clock) -> None:
        self.reminders = reminders
        self.history = history
        self.clock = clock

    @me_group.command(name="attendance", description="Your own attendance: rate, roll calls, events, with a chart")
    @app_commands.rename(from_text="from", to_text="to", chosen="format")
    @app_commands.describe(from_text=FROM_HELP, to_text=TO_HELP, chosen=FORMAT_HELP)
    @app_commands.choices(chosen=FORMAT_CHOICES)
    async def me_attendance(
        self,
        interaction: Interaction,
        from_text: str | None = None,
        to_text: str | None = None,
        chosen: str = "embed",
    ) -> None:
        # Always the caller's own record: there is no member option to point elsewhere.
        await self.history.answer(interaction, interaction.user, from_text, to_text, chosen)

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
    history = MemberHistory(bot.reports, bot.guild_configs, bot.clock)
    await bot.add_cog(Me(reminders=bot.event_reminders, history=history, clock=bot.clock))
