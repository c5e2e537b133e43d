"""A member's attendance record: what `/report member`, `/attendance history` and `/me attendance`
answer, who may see whose, and the range parsing and report sending every `/report` shares."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.checks import AUDIENCE_ORGANIZER, ensure_staff, may_use
from bot.errors import InvalidInput, NotAllowed
from bot.progress import write_table
from bot.replies import send_files, send_reply
from cogs.reports import render
from cogs.reports.exports import sessions_table
from cogs.reports.report import Report, member_report
from utils.ranges import DayRange, RangeRefused, parse_range

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.types import Interaction
    from storage.guild_config import GuildConfigRepository
    from storage.reports import ReportRepository
    from utils.csv_export import Table

FROM_HELP = "First day, in the server's time zone (e.g. 2027-03-01; default: 30 days before `to`)"
TO_HELP = "Last day, included (e.g. 2027-03-31; default: today)"
FORMAT_HELP = "embed: figures and a chart (default); csv: the data as a file; pdf: figures and chart as a PDF"
FORMAT_CHOICES = [
    app_commands.Choice(name="embed (figures and a chart)", value="embed"),
    app_commands.Choice(name="csv", value="csv"),
    app_commands.Choice(name="pdf", value="pdf"),
]


class MemberHistory:
    def __init__(self, reports: ReportRepository, configs: GuildConfigRepository, clock: Clock) -> None:
        self.reports = reports
        self.configs = configs
        self.clock = clock

    async def day_range(
        self, interaction: Interaction, from_text: str | None, to_text: str | None
    ) -> tuple[DayRange, str]:
        config = await self.configs.get(interaction.guild_id or 0)
        try:
            days = parse_range(from_text, to_text, zone_name=config.timezone, now=self.clock.now())
        except RangeRefused as refusal:
            raise InvalidInput(refusal.message) from None
        return days, config.timezone

    async def ensure_may_see(self, interaction: Interaction, member: discord.Member | discord.User) -> None:
        """Anyone may see their own record; someone else's is for admins and organizers only (in
        the admin channel when one is set, like every staff command)."""
        if member.id == interaction.user.id:
            return
        config = await self.configs.get(interaction.guild_id or 0)
        caller = interaction.user
        if not isinstance(caller, discord.Member) or not may_use(
            AUDIENCE_ORGANIZER, caller, interaction.permissions, config
        ):
            raise NotAllowed(
                "You can see only your own attendance (leave `member` out, or use `/me attendance`). "
                "Only server admins (Manage Server) and the organizer role can see someone else's."
            )
        await ensure_staff(interaction, organizers_allowed=True)

    async def answer(
        self,
        interaction: Interaction,
        member: discord.Member | discord.User,
        from_text: str | None,
        to_text: str | None,
        chosen: str,
    ) -> None:
        """The member's report, ephemeral. The caller has checked who may see it."""
        days, timezone = await self.day_range(interaction, from_text, to_text)
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id or 0
        figures = await self.reports.range_figures(
            guild_id, days.start, days.end, now=self.clock.now(), user_ids={member.id}
        )
        tally = figures.members.get(member.id)
        if tally is None:
            await send_reply(
                interaction, f"{member.mention} has no roll calls or events from {days.label}: nothing to report."
            )
            return
        records = await self.reports.list_session_records(guild_id, days.start, days.end, user_id=member.id)
        report = member_report(days.label, tally, records, member.display_name, timezone)
        stem = f"{member.id}-{days.first.isoformat()}-to-{days.last.isoformat()}"
        await send_report(
            interaction, report, chosen, [(f"rollcall-member-{stem}.csv", sessions_table(records, timezone))]
        )


async def send_report(
    interaction: Interaction, report: Report, chosen: str, csv_tables: Sequence[tuple[str, Table[Any]]]
) -> None:
    """The report in the chosen format; its tables are written only when `csv` was chosen."""
    stem = "".join(ch if ch.isalnum() else "-" for ch in report.title.lower())[:60].strip("-") or "report"
    if chosen == "csv":
        files = [(name, await write_table(interaction, table)) for name, table in csv_tables]
        await send_files(interaction, f"**{report.title}**", files)
        return
    if chosen == "pdf":
        data = await render.pdf(report.chart)
        await send_files(interaction, f"**{report.title}**", [(f"{stem}.pdf", data)])
        return
    png = await render.png(report.chart)
    await send_reply(interaction, embed=report.embed(), files=[discord.File(io.BytesIO(png), filename="chart.png")])
