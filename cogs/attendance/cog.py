"""The roll call's commands: staff open, close, inspect and correct roll calls; members answer
with /here. The roll calls themselves live in cogs/attendance/live.py, the /here path in
cogs/attendance/answers.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    AUDIENCE_EVERYONE,
    AUDIENCE_ORGANIZER,
    ensure_can_post,
    ensure_in_range,
    staff_autocomplete,
    staff_only,
)
from bot.clock import Clock
from bot.delivery import Delivery
from bot.errors import InvalidInput, NotFound
from bot.progress import write_table
from bot.replies import send_files, send_reply
from bot.types import Interaction
from cogs.attendance.answers import answer, channel_list
from cogs.attendance.live import RollCalls, RollCallSettings
from cogs.attendance.report import report_whereabouts
from cogs.attendance.status import LOCKOUTS_FILE, OpenSessionStatus, lockouts_csv, status_embed
from cogs.attendance.verdicts import marked_note
from cogs.attendance.views import (
    SessionsPageButton,
    counts_line,
    render_sessions_page,
    session_csv_name,
    session_label,
)
from cogs.events.listing import matching_events
from cogs.reports.history import FORMAT_CHOICES, FORMAT_HELP, FROM_HELP, TO_HELP, MemberHistory
from storage.attendance import AttendanceRepository, AttendanceSession
from storage.events import Event, EventRepository
from storage.guild_config import GuildConfigRepository
from utils.limits import (
    CODE_INTERVAL,
    CODE_LENGTH,
    DEFAULT_MIN_PRESENCE_PERCENT,
    MIN_PRESENCE_PERCENT,
    RECORD_STATUSES,
    ROLL_CALL_DURATION,
)
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.core import Rollcall

STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in RECORD_STATUSES]


class Attendance(commands.Cog):
    attendance_group = app_commands.Group(
        name="attendance",
        description="Live roll calls with rotating codes, and attendance history",
        guild_only=True,
        # Not hidden from members with `default_permissions`: `/attendance history` is theirs too
        # (Discord can only hide a whole group). Every organizer subcommand is checked in code.
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    dynamic_items = (SessionsPageButton,)

    def __init__(
        self,
        bot: Rollcall,
        *,
        roll_calls: RollCalls,
        sessions: AttendanceRepository,
        events: EventRepository,
        configs: GuildConfigRepository,
        delivery: Delivery,
        clock: Clock,
        history: MemberHistory,
    ) -> None:
        self.bot = bot
        self.roll_calls = roll_calls
        self.sessions = sessions
        self.events = events
        self.configs = configs
        self.delivery = delivery
        self.clock = clock
        self.history = history

    async def cog_load(self) -> None:
        await self.roll_calls.load()
        self.bot.voice_state_watch = self.roll_calls.presence.on_voice_state

    async def cog_unload(self) -> None:
        self.bot.voice_state_watch = None
        await self.roll_calls.presence.pause_all()
        await self.sessions.flush()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Not in reconcile: that runs in setup_hook, before the guilds' voice states are cached.
        await self.roll_calls.presence.resume_all()

    async def reconcile(self) -> None:
        self.roll_calls.reconcile()

    # ---- session lookup -----------------------------------------------------------------

    async def _event_option(self, guild_id: int, event_id: int) -> Event:
        event = await self.events.get_in_guild(guild_id, event_id)
        if event is None:
            raise NotFound(
                f"There is no event #{event_id} in this server. Start typing in the `event` option to pick one."
            )
        status = event.status_at(self.clock.now())
        if status in ("ended", "cancelled"):
            raise InvalidInput(f"**{event.title}** is {status}, so a roll call can't count attendance for it.")
        return event

    @staff_autocomplete
    async def event_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        return await matching_events(self.events, self.configs, interaction.guild_id, current, self.clock.now())

    async def _session_option(self, guild_id: int, session_id: int | None) -> AttendanceSession:
        if session_id is not None:
            session = await self.sessions.get_in_guild(guild_id, session_id)
            if session is None:
                raise NotFound(
                    f"There is no roll call #{session_id} in this server. Start typing in the `session` option "
                    "to pick one from the list."
                )
            return session
        session = await self.sessions.get_latest(guild_id)
        if session is None:
            raise NotFound("There are no roll calls yet. Open one with `/attendance open`.")
        return session

    @staff_autocomplete
    async def session_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice]:
        config = await self.configs.get(interaction.guild_id)
        choices = []
        for session in await self.sessions.search_recent(interaction.guild_id, limit=100):
            channel = interaction.guild.get_channel(session.channel_id) if interaction.guild else None
            label = session_label(session, channel.name if channel else None, config.timezone)
            if current.strip().lower().lstrip("#") in label.lower():
                choices.append(app_commands.Choice(name=label[:100], value=session.id))
            if len(choices) == 25:
                break
        return choices

    # ---- commands -----------------------------------------------------------------------

    @attendance_group.command(name="open", description="Open a roll call with a rotating code in a channel")
    @app_commands.describe(
        channel="Where the code is shown and /here is answered (default: the attendance channel)",
        interval="Seconds between code changes (default: the server setting)",
        length=f"Characters per code, {CODE_LENGTH.low} to {CODE_LENGTH.high} (default: the server setting)",
        duration="Minutes until the roll call closes by itself (default: stays open until closed)",
        expected_role="Members of this role who do not answer are recorded absent at close",
        event="The event this roll call counts attendance for (each accepted /here attends it)",
        voice="A voice or stage channel whose presence corroborates each answer",
        min_presence_percent=(
            f"Share of the roll call to spend in `voice`, {MIN_PRESENCE_PERCENT.low} to "
            f'{MIN_PRESENCE_PERCENT.high} (default {DEFAULT_MIN_PRESENCE_PERCENT}); less is "left early"'
        ),
        strict="Refuse /here from members who are not in `voice` (default: accept and flag them)",
    )
    @app_commands.autocomplete(event=event_autocomplete)
    @staff_only()
    async def attendance_open(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        interval: app_commands.Range[int, CODE_INTERVAL.low, CODE_INTERVAL.high] | None = None,
        length: app_commands.Range[int, CODE_LENGTH.low, CODE_LENGTH.high] | None = None,
        duration: app_commands.Range[int, ROLL_CALL_DURATION.low, ROLL_CALL_DURATION.high] | None = None,
        expected_role: discord.Role | None = None,
        event: int | None = None,
        voice: discord.VoiceChannel | discord.StageChannel | None = None,
        min_presence_percent: app_commands.Range[int, MIN_PRESENCE_PERCENT.low, MIN_PRESENCE_PERCENT.high]
        | None = None,
        strict: bool | None = None,
    ) -> None:
        config = await self.configs.get(interaction.guild_id)
        if voice is None and (min_presence_percent is not None or strict is not None):
            raise InvalidInput(
                "`min_presence_percent` and `strict` need a `voice` channel to check presence in: pick one, "
                "or leave them out."
            )
        if min_presence_percent is not None:
            ensure_in_range(
                "The minimum presence", min_presence_percent, MIN_PRESENCE_PERCENT.bounds, MIN_PRESENCE_PERCENT.unit
            )
        if voice is not None and not voice.permissions_for(voice.guild.me).view_channel:
            raise InvalidInput(f"I can't see {voice.mention}, so I can't tell who sits in it. Let me view it first.")
        tied = await self._event_option(interaction.guild_id, event) if event is not None else None
        if channel is None:
            channel = interaction.guild.get_channel(config.attendance_channel_id or 0)
            if not isinstance(channel, discord.TextChannel):
                raise InvalidInput(
                    "Pick a `channel`, or set a default with `/config set attendance_channel`, then try again."
                )
        interval = config.code_interval_seconds if interval is None else interval
        length = config.code_length if length is None else length
        ensure_in_range("The code interval", interval, CODE_INTERVAL.bounds, CODE_INTERVAL.unit)
        ensure_in_range("The code length", length, CODE_LENGTH.bounds, CODE_LENGTH.unit)
        if duration is not None:
            ensure_in_range("The duration", duration, ROLL_CALL_DURATION.bounds, ROLL_CALL_DURATION.unit)
        if expected_role is not None and expected_role.is_default():
            raise InvalidInput("@everyone can't be the expected role: pick the class's role.")
        grace = min(config.grace_seconds, interval - 1)
        ensure_can_post(channel)
        # Before the row exists: a failed defer must not leave an open roll call behind, and
        # discord.py retries a 5xx for several seconds, past the interaction's 3-second deadline.
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = RollCallSettings(
            channel=channel,
            interval_seconds=interval,
            code_length=length,
            grace_seconds=grace,
            late_after_minutes=config.late_after_minutes,
            duration_minutes=duration,
            expected_role_id=expected_role.id if expected_role else None,
            event_id=tied.id if tied else None,
            voice_channel_id=voice.id if voice else None,
            min_presence_percent=(
                DEFAULT_MIN_PRESENCE_PERCENT if min_presence_percent is None else min_presence_percent
            ),
            strict=bool(strict),
        )
        session = await self.roll_calls.open(settings, guild_id=interaction.guild_id, opened_by=interaction.user.id)
        closes = f", closes {discord_timestamp(session.closes_at, 'R')}" if session.closes_at else ""
        counts_for = f" Each accepted `/here` counts as attending **{tied.title}**." if tied else ""
        if voice is not None:
            outside = "refused" if session.strict_presence else "accepted and flagged *not in voice*"
            counts_for += (
                f" Presence in {voice.mention} is tracked ({session.min_presence_percent}% of the roll call needed); "
                f"`/here` from outside it is {outside}."
            )
        await send_reply(
            interaction,
            f"Roll call #{session.id} is open in {channel.mention}: a {length}-character code changes every "
            f"{interval} s{closes}. Close it with `/attendance close`.{counts_for}",
        )

    @app_commands.command(name="here", description="Answer the roll call with the code shown in this channel")
    @app_commands.describe(code="The code shown on the roll-call message right now")
    @app_commands.guild_only()
    async def here(self, interaction: Interaction, code: app_commands.Range[str, 1, 32]) -> None:
        text = await answer(
            self.roll_calls,
            self.sessions,
            user=interaction.user,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            code=code,
            now=self.clock.now(),
        )
        await send_reply(interaction, text)

    @attendance_group.command(name="close", description="Close an open roll call and post its report")
    @app_commands.describe(
        channel="The channel whose roll call to close (needed when several are open)",
        session="The roll call to close",
    )
    @app_commands.autocomplete(session=session_autocomplete)
    @staff_only()
    async def attendance_close(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        session: int | None = None,
    ) -> None:
        open_sessions = self.roll_calls.open_in(interaction.guild_id)
        if session is not None:
            target = await self._session_option(interaction.guild_id, session)
            if not target.is_open:
                raise InvalidInput(f"Roll call #{target.id} is already closed.")
        elif channel is not None:
            target = self.roll_calls.in_channel(channel.id)
            if target is None:
                raise NotFound(f"There is no open roll call in {channel.mention}.")
        elif len(open_sessions) == 1:
            target = open_sessions[0]
        elif not open_sessions:
            raise NotFound("There is no open roll call to close.")
        else:
            where = channel_list(open_sessions)
            raise InvalidInput(f"Several roll calls are open ({where}): pick one with the `channel` option.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.roll_calls.close(target, closed_by=interaction.user.id, now=self.clock.now())
        if outcome is None:
            raise InvalidInput(f"Roll call #{target.id} was already closed.")
        closed, counts, warning, report = outcome
        where = report_whereabouts(closed, report)
        text = f"Closed roll call #{closed.id} in <#{closed.channel_id}>: {counts_line(counts)}. {where}"
        if warning:
            text += f"\n⚠️ {warning}"
        await send_reply(interaction, text)

    @attendance_group.command(name="status", description="Show open roll calls, their counts and locked-out members")
    @staff_only()
    async def attendance_status(self, interaction: Interaction) -> None:
        now = self.clock.now()
        open_sessions = sorted(self.roll_calls.open_in(interaction.guild_id), key=lambda s: s.id)
        if not open_sessions:
            embed = discord.Embed(title="Roll call status", colour=discord.Colour.green())
            latest = await self.sessions.get_latest(interaction.guild_id)
            embed.description = "No roll call is open."
            if latest is not None:
                counts = await self.sessions.count_statuses(latest.id)
                embed.description += f"\nLast: #{latest.id} in <#{latest.channel_id}> — {counts_line(counts)}"
            await send_reply(interaction, embed=embed)
            return
        statuses = [
            OpenSessionStatus(
                session=session,
                channel_name=self._channel_name(session),
                counts=await self.sessions.count_statuses(session.id),
                lockouts=await self.sessions.list_lockouts(session.id),
                next_code_at=self.roll_calls.current_code(session, now)[2],
                presence=await self.roll_calls.presence_summary(session),
                in_voice_now=len(self.roll_calls.presence.sitting_in(session)) if session.voice_channel_id else 0,
            )
            for session in open_sessions
        ]
        embed, lockouts_cut = status_embed(statuses)
        if not lockouts_cut:
            await send_reply(interaction, embed=embed)
            return
        config = await self.configs.get(interaction.guild_id)
        data = lockouts_csv(statuses, config.timezone, self.roll_calls.display_name_in(interaction.guild_id))
        await send_files(
            interaction, "Everyone locked out is in the attached file.", [(LOCKOUTS_FILE, data)], embed=embed
        )

    def _channel_name(self, session: AttendanceSession) -> str:
        channel = self.bot.get_channel(session.channel_id)
        return getattr(channel, "name", str(session.channel_id))

    @attendance_group.command(name="sessions", description="List recent roll calls with their counts")
    @staff_only()
    async def attendance_sessions(self, interaction: Interaction) -> None:
        embed, view = await render_sessions_page(self.sessions, interaction.guild_id, 0)
        await send_reply(interaction, embed=embed, view=view)

    @attendance_group.command(name="mark", description="Set a member's status in a roll call by hand")
    @app_commands.describe(
        member="The member to mark",
        status="present, late, absent or excused",
        session="The roll call (default: the latest one)",
    )
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.autocomplete(session=session_autocomplete)
    @staff_only()
    async def attendance_mark(
        self,
        interaction: Interaction,
        member: discord.User,
        status: app_commands.Choice[str],
        session: int | None = None,
    ) -> None:
        if member.bot:
            raise InvalidInput("Bots don't take part in roll calls.")
        # The option is typed User so that unmark can reach someone who left; Discord sends a
        # Member only for members of this server.
        if not isinstance(member, discord.Member):
            raise InvalidInput(
                f"{member.mention} is not a member of this server, so they can't be marked; nothing was changed. "
                "Pick someone from this server in the `member` option."
            )
        target = await self._session_option(interaction.guild_id, session)
        before = await self.sessions.mark(
            target,
            user_id=member.id,
            user_name=member.name,
            display_name=member.display_name,
            status=status.value,
            actor_id=interaction.user.id,
            now=self.clock.now(),
        )
        was = f"was {before}" if before else "had no record"
        text = f"{member.mention} is now **{status.value}** in roll call #{target.id} ({was})."
        presence = await self.roll_calls.presence_summary(target)
        if presence is not None and target.voice_channel_id is not None:
            text += f"\n{marked_note(presence, member.id, target.voice_channel_id)}"
        await send_reply(interaction, text)
        await self.delivery.post_log(
            interaction.guild_id,
            f"✏️ {interaction.user.mention} marked {member.mention} {status.value} in roll call #{target.id} ({was}).",
        )

    @attendance_group.command(name="unmark", description="Remove a member's record from a roll call")
    @app_commands.describe(
        member="The member whose record to remove", session="The roll call (default: the latest one)"
    )
    @app_commands.autocomplete(session=session_autocomplete)
    @staff_only()
    async def attendance_unmark(
        self, interaction: Interaction, member: discord.User, session: int | None = None
    ) -> None:
        # Deliberately open to users who are no longer members: a teacher must be able to clear
        # the record of a student who has since left the server.
        target = await self._session_option(interaction.guild_id, session)
        before = await self.sessions.unmark(
            target, user_id=member.id, actor_id=interaction.user.id, now=self.clock.now()
        )
        if before is None:
            raise NotFound(f"{member.mention} has no record in roll call #{target.id}; nothing was changed.")
        await send_reply(interaction, f"Removed {member.mention}'s record ({before}) from roll call #{target.id}.")
        await self.delivery.post_log(
            interaction.guild_id,
            f"✏️ {interaction.user.mention} removed {member.mention}'s record ({before}) from roll call #{target.id}.",
        )

    @attendance_group.command(name="export", description="Download a roll call as a CSV file")
    @app_commands.describe(session="The roll call (default: the latest one)")
    @app_commands.autocomplete(session=session_autocomplete)
    @staff_only()
    async def attendance_export(self, interaction: Interaction, session: int | None = None) -> None:
        target = await self._session_option(interaction.guild_id, session)
        config = await self.configs.get(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        counts = await self.sessions.count_statuses(target.id)
        data = await write_table(interaction, await self.roll_calls.csv_table(target, config))
        await send_files(
            interaction, f"Roll call #{target.id}: {counts_line(counts)}", [(session_csv_name(target), data)]
        )

    @attendance_group.command(
        name="history",
        description="A member's attendance: rate, roll calls, events (yours, unless you are an organizer)",
        extras={"audience": AUDIENCE_EVERYONE},
    )
    @app_commands.rename(from_text="from", to_text="to", chosen="format")
    @app_commands.describe(
        member="Whose record (default: yours); organizers may pick anyone",
        from_text=FROM_HELP,
        to_text=TO_HELP,
        chosen=FORMAT_HELP,
    )
    @app_commands.choices(chosen=FORMAT_CHOICES)
    async def attendance_history(
        self,
        interaction: Interaction,
        member: discord.User | None = None,
        from_text: str | None = None,
        to_text: str | None = None,
        chosen: str = "embed",
    ) -> None:
        # A user, not only a member: an organizer may look up someone who has since left, whose
        # records stay. The rule on whose record is checked here in code, whatever Discord shows.
        target = member or interaction.user
        await self.history.ensure_may_see(interaction, target)
        await self.history.answer(interaction, target, from_text, to_text, chosen)
