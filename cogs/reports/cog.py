"""`/export`: roll calls over a date range in one file, and members' attendance over a range."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_ORGANIZER, staff_only
from bot.errors import InvalidInput
from bot.replies import send_files, send_reply
from cogs.reports.exports import NameOf, members_csv, sessions_range_csv
from utils.ranges import DayRange, RangeRefused, parse_range

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.types import Interaction
    from storage.guild_config import GuildConfigRepository
    from storage.reports import ReportRepository

ORGANIZER = {"audience": AUDIENCE_ORGANIZER}
FROM_HELP = "First day, in the server's time zone (e.g. 2027-03-01; default: 30 days before `to`)"
TO_HELP = "Last day, included (e.g. 2027-03-31; default: today)"
POST_HELP = "Post the file in this channel for everyone (default: only you see it)"


class Reports(commands.Cog):
    export_group = app_commands.Group(
        name="export", description="Download attendance as CSV files", guild_only=True, extras=ORGANIZER
    )

    def __init__(
        self, bot: Rollcall, *, reports: ReportRepository, configs: GuildConfigRepository, clock: Clock
    ) -> None:
        self.bot = bot
        self.reports = reports
        self.configs = configs
        self.clock = clock

    async def _range(
        self, interaction: Interaction, from_text: str | None, to_text: str | None
    ) -> tuple[DayRange, str]:
        config = await self.configs.get(interaction.guild_id or 0)
        try:
            days = parse_range(from_text, to_text, zone_name=config.timezone, now=self.clock.now())
        except RangeRefused as refusal:
            raise InvalidInput(refusal.message) from None
        return days, config.timezone

    def _name_of(self, interaction: Interaction) -> NameOf:
        guild = interaction.guild

        def name_of(user_id: int) -> str | None:
            member = guild.get_member(user_id) if guild is not None else None
            return member.display_name if member is not None else None

        return name_of

    @export_group.command(name="sessions", description="Every roll call in a date range, in one CSV file")
    @app_commands.rename(from_text="from", to_text="to")
    @app_commands.describe(from_text=FROM_HELP, to_text=TO_HELP, post=POST_HELP)
    @staff_only()
    async def export_sessions(
        self, interaction: Interaction, from_text: str | None = None, to_text: str | None = None, post: bool = False
    ) -> None:
        days, timezone = await self._range(interaction, from_text, to_text)
        await interaction.response.defer(ephemeral=not post, thinking=True)
        records = await self.reports.list_session_records(interaction.guild_id or 0, days.start, days.end)
        if not records:
            await send_reply(interaction, f"No roll-call records from {days.label}; there is nothing to export.")
            return
        sessions = len({item.session.id for item in records})
        data = sessions_range_csv(records, timezone)
        name = f"rollcall-sessions-{days.first.isoformat()}-to-{days.last.isoformat()}.csv"
        said = f"{sessions:,} roll calls, {len(records):,} records, {days.label}."
        await send_files(interaction, said, [(name, data)], ephemeral=not post)

    @export_group.command(
        name="members", description="Each member's attendance over a date range: roll calls, events, no-shows"
    )
    @app_commands.rename(from_text="from", to_text="to")
    @app_commands.describe(from_text=FROM_HELP, to_text=TO_HELP, role="Only members with this role", post=POST_HELP)
    @staff_only()
    async def export_members(
        self,
        interaction: Interaction,
        from_text: str | None = None,
        to_text: str | None = None,
        role: discord.Role | None = None,
        post: bool = False,
    ) -> None:
        days, _ = await self._range(interaction, from_text, to_text)
        await interaction.response.defer(ephemeral=not post, thinking=True)
        keep = {member.id for member in role.members} if role is not None else None
        figures = await self.reports.range_figures(
            interaction.guild_id or 0, days.start, days.end, now=self.clock.now(), user_ids=keep
        )
        if not figures.members:
            await send_reply(interaction, f"No attendance recorded from {days.label}; there is nothing to export.")
            return
        data = members_csv(list(figures.members.values()), self._name_of(interaction))
        name = f"rollcall-members-{days.first.isoformat()}-to-{days.last.isoformat()}.csv"
        said = f"{len(figures.members):,} members, {days.label}" + (f", role {role.mention}." if role else ".")
        await send_files(interaction, said, [(name, data)], ephemeral=not post)
