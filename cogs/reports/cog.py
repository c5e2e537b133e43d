"""`/export sessions|members|event`: roll calls over a date range in one file, members' attendance
over a range, one event's people. `/report member|event|range`: the key figures as an embed with a
PNG chart, a CSV, or a PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_EVERYONE, AUDIENCE_ORGANIZER, staff_only
from bot.errors import InvalidInput
from bot.members import display_names
from bot.progress import write_table
from bot.replies import send_files, send_reply
from cogs.events.creator import creator_or_staff
from cogs.events.listing import event_autocomplete, find_event, managed_event_autocomplete
from cogs.reports import render
from cogs.reports.exports import event_table, events_table, members_table, sessions_table
from cogs.reports.history import FORMAT_CHOICES, FORMAT_HELP, FROM_HELP, TO_HELP, MemberHistory, send_report
from cogs.reports.report import event_report, range_report
from storage.reports import EventTally, MemberTally
from utils.ranges import DayRange
from utils.text import shorten

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.types import Interaction
    from storage.event_slots import EventSlotRepository
    from storage.events import EventRepository
    from storage.guild_config import GuildConfigRepository
    from storage.reports import ReportRepository

ORGANIZER = {"audience": AUDIENCE_ORGANIZER}
POST_HELP = "Post the file in this channel for everyone (default: only you see it)"


class Reports(commands.Cog):
    export_group = app_commands.Group(
        name="export", description="Download attendance as CSV files", guild_only=True, extras=ORGANIZER
    )

    report_group = app_commands.Group(
        name="report", description="Attendance figures and charts", guild_only=True, extras=ORGANIZER
    )

    def __init__(
        self,
        bot: Rollcall,
        *,
        reports: ReportRepository,
        events: EventRepository,
        event_slots: EventSlotRepository,
        configs: GuildConfigRepository,
        clock: Clock,
    ) -> None:
        self.bot = bot
        self.reports = reports
        self.events = events
        self.event_slots = event_slots
        self.configs = configs
        self.clock = clock
        self.history = MemberHistory(reports, configs, clock)

    async def cog_load(self) -> None:
        # The chart worker belongs to the process, shared by every bot it runs (a restart in place,
        # the tests), so unloading the cog leaves it running; it exits with the process.
        render.warm()

    async def _range(
        self, interaction: Interaction, from_text: str | None, to_text: str | None
    ) -> tuple[DayRange, str]:
        return await self.history.day_range(interaction, from_text, to_text)

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
        data = await write_table(interaction, sessions_table(records, timezone))
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
        data = await write_table(
            interaction, members_table(list(figures.members.values()), display_names(interaction.guild))
        )
        name = f"rollcall-members-{days.first.isoformat()}-to-{days.last.isoformat()}.csv"
        said = f"{len(figures.members):,} members, {days.label}" + (f", role {role.mention}." if role else ".")
        await send_files(interaction, said, [(name, data)], ephemeral=not post)

    @export_group.command(
        name="event", description="One event's RSVPs, waitlist, slots and attendance, one row per member"
    )
    @app_commands.describe(event="The event (start typing its title)", post=POST_HELP)
    @app_commands.autocomplete(event=managed_event_autocomplete)
    @creator_or_staff("export")
    async def export_event(self, interaction: Interaction, event: int, post: bool = False) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        config = await self.configs.get(found.guild_id)
        await interaction.response.defer(ephemeral=not post, thinking=True)
        rsvps = await self.events.list_rsvps(found.id)
        attendance = await self.events.list_attendance(found.id)
        if not rsvps and not attendance:
            await send_reply(interaction, f"Nobody has answered or attended **{found.title}** yet: nothing to export.")
            return
        signups = await self.event_slots.list_signups(found.id)
        slot_names = {slot.position: slot.name for slot in await self.event_slots.list_slots(found.id)}
        now = self.clock.now()
        table = event_table(
            found,
            rsvps,
            attendance,
            signups,
            slot_names,
            timezone=config.timezone,
            now=now,
            name_of=display_names(interaction.guild),
        )
        data = await write_table(interaction, table)
        answered = {rsvp.user_id for rsvp in rsvps}
        going = {rsvp.user_id for rsvp in rsvps if rsvp.status == "going"}
        came = {row.user_id for row in attendance}
        said = (
            f"Event #{found.id} **{shorten(found.title, 100)}**: {len(answered | came):,} members, "
            f"{len(going):,} going, {len(came):,} attended, {len(came - going):,} walk-ins"
        )
        said += f", {len(going - came):,} no-shows." if found.ends_at <= now else " (no-shows once it has ended)."
        name = f"event-{found.id}-export-{found.starts_at:%Y-%m-%d}.csv"
        await send_files(interaction, said, [(name, data)], ephemeral=not post)

    # ---- /report ------------------------------------------------------------------------

    @report_group.command(name="range", description="Attendance over a date range: rate, top attendees, no-shows")
    @app_commands.rename(from_text="from", to_text="to", chosen="format")
    @app_commands.describe(from_text=FROM_HELP, to_text=TO_HELP, role="Only members with this role", chosen=FORMAT_HELP)
    @app_commands.choices(chosen=FORMAT_CHOICES)
    @staff_only()
    async def report_range(
        self,
        interaction: Interaction,
        from_text: str,
        to_text: str,
        role: discord.Role | None = None,
        chosen: str = "embed",
    ) -> None:
        days, timezone = await self._range(interaction, from_text, to_text)
        await interaction.response.defer(ephemeral=True, thinking=True)
        keep = {member.id for member in role.members} if role is not None else None
        figures = await self.reports.range_figures(
            interaction.guild_id or 0, days.start, days.end, now=self.clock.now(), user_ids=keep
        )
        if not figures.sessions and not figures.events:
            await send_reply(interaction, f"No roll calls or events from {days.label}: there is nothing to report.")
            return
        name_of = display_names(interaction.guild)
        report = range_report(days.label, figures, name_of, timezone, role_name=role.name if role else None)
        stem = f"{days.first.isoformat()}-to-{days.last.isoformat()}"
        tables = [
            (f"rollcall-members-{stem}.csv", members_table(list(figures.members.values()), name_of)),
            (f"rollcall-events-{stem}.csv", events_table(figures.events, timezone)),
        ]
        await send_report(interaction, report, chosen, tables)

    @report_group.command(
        name="member",
        description="One member's attendance (yours, unless you are an organizer)",
        extras={"audience": AUDIENCE_EVERYONE},
    )
    @app_commands.rename(from_text="from", to_text="to", chosen="format")
    @app_commands.describe(member="Whose record", from_text=FROM_HELP, to_text=TO_HELP, chosen=FORMAT_HELP)
    @app_commands.choices(chosen=FORMAT_CHOICES)
    async def report_member(
        self,
        interaction: Interaction,
        member: discord.Member,
        from_text: str | None = None,
        to_text: str | None = None,
        chosen: str = "embed",
    ) -> None:
        await self.history.ensure_may_see(interaction, member)
        await self.history.answer(interaction, member, from_text, to_text, chosen)

    @report_group.command(name="event", description="One event: Going, attended, no-shows and walk-ins")
    @app_commands.rename(chosen="format")
    @app_commands.describe(event="The event (start typing its title)", chosen=FORMAT_HELP)
    @app_commands.choices(chosen=FORMAT_CHOICES)
    @app_commands.autocomplete(event=event_autocomplete)
    @staff_only()
    async def report_event(self, interaction: Interaction, event: int, chosen: str = "embed") -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        if found.cancelled_at is not None:
            # Cancelled events are left out of every figure, so there is nothing to reconcile.
            raise InvalidInput(
                f"**{shorten(found.title, 100)}** was cancelled, so it has no attendance to report. "
                f"`/export event` still lists who had answered."
            )
        config = await self.configs.get(found.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        # In click order and in the order they came: the report mentions them so.
        going_in_order = [rsvp.user_id for rsvp in await self.events.list_rsvps(found.id, "going")]
        came_in_order = [row.user_id for row in await self.events.list_attendance(found.id)]
        going, came = set(going_in_order), set(came_in_order)
        if not going and not came:
            await send_reply(interaction, f"Nobody said Going to or attended event #{found.id} yet: nothing to report.")
            return
        # Until the event has ended a member who said Going may still come: no no-shows yet.
        ended = found.ends_at <= self.clock.now()
        no_shows = going - came if ended else set()
        tally = EventTally(
            found.id,
            found.title,
            found.starts_at,
            found.ends_at,
            len(going),
            len(came),
            len(no_shows),
            len(came - going),
        )
        report = event_report(found, tally, going_in_order, came_in_order, config.timezone)
        rows = [
            MemberTally(
                user,
                events_attended=int(user in came),
                events_going=int(user in going),
                no_shows=int(user in no_shows),
                walk_ins=int(user in came and user not in going),
            )
            for user in sorted(going | came)
        ]
        table = members_table(rows, display_names(interaction.guild))
        await send_report(interaction, report, chosen, [(f"event-{found.id}-report.csv", table)])
