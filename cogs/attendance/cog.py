"""Live roll call: rotating codes, /here, late and absent, corrections and exports."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_ORGANIZER, ensure_can_post, ensure_in_range, staff_autocomplete, staff_only
from bot.delivery import Delivery, Handover, Outcome, Parcel, Target, permission_label
from bot.errors import InvalidInput, NotAllowed, NotFound, RollcallError
from bot.replies import send_reply
from cogs.attendance.report import (
    CLOSE_REPORT_KIND,
    close_report,
    close_report_owed,
    closed_line,
    report_whereabouts,
)
from cogs.attendance.status import LOCKOUTS_FILE, OpenSessionStatus, lockouts_csv, status_embed
from cogs.attendance.views import (
    SessionsPageButton,
    closed_message_embed,
    code_message_embed,
    counts_line,
    render_sessions_page,
    session_csv,
    session_csv_name,
    session_label,
)
from storage.attendance import (
    AttendanceRepository,
    AttendanceSession,
    SessionAlreadyOpen,
    Submission,
    SubmissionResult,
)
from storage.database import DatabaseBusy
from storage.guild_config import GuildConfig
from storage.outbox import OwedMessage
from utils.codes import Verdict, check_code, new_secret, window_at, window_code, window_start
from utils.limits import CODE_INTERVAL, CODE_LENGTH, MAX_FAILURES, RECORD_STATUSES, ROLL_CALL_DURATION
from utils.text import join_some
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.core import Rollcall

log = logging.getLogger(__name__)

ROTATE_JOB = "attendance.rotate"
CLOSE_JOB = "attendance.close"
# Channel mentions listed in a refusal; a guild may run more roll calls than fit one message.
CHANNELS_SHOWN = 20
CODE_MESSAGE_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in RECORD_STATUSES]


def csv_attachment(session: AttendanceSession, data: bytes) -> discord.File:
    """A fresh file each time: a discord.File is consumed by the send that uploads it."""
    return discord.File(io.BytesIO(data), filename=session_csv_name(session))


def _channel_list(sessions: list[AttendanceSession]) -> str:
    """Channel mentions that stay far inside a message's length, however many roll calls are open."""
    shown, more = join_some([f"<#{session.channel_id}>" for session in sessions], shown=CHANNELS_SHOWN)
    return f"{shown} and {more} more" if more else shown


class ClosedRollCall(NamedTuple):
    session: AttendanceSession
    counts: dict[str, int]
    warning: str | None
    report: Handover


class Attendance(commands.Cog):
    attendance_group = app_commands.Group(
        name="attendance",
        description="Run live roll calls with rotating codes",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={"audience": AUDIENCE_ORGANIZER},
    )
    dynamic_items = (SessionsPageButton,)

    def __init__(self, bot: Rollcall, sessions: AttendanceRepository, delivery: Delivery) -> None:
        self.bot = bot
        self.sessions = sessions
        self.delivery = delivery
        # Caches of rows, rebuilt from the database at load and updated after each commit,
        # so the /here hot path needs no read queries.
        self._open_by_channel: dict[int, AttendanceSession] = {}
        self._failures: dict[int, dict[int, int]] = {}
        # Sessions found open at start-up: their code message is checked (or re-posted) first.
        self._resumed: set[int] = set()
        # Open sessions whose channel refused the bot, so the admins are told once, not every
        # rotation; an entry leaves when the channel works again or the session closes.
        self._blocked: set[int] = set()

    async def cog_load(self) -> None:
        self.bot.jobs.register(CLOSE_JOB, self.close_due_sessions)
        self.bot.jobs.register(ROTATE_JOB, self.rotate_due_messages)
        self.delivery.register(CLOSE_REPORT_KIND, self._render_close_report)
        for session in await self.sessions.list_open():
            self._open_by_channel[session.channel_id] = session
            self._failures[session.id] = await self.sessions.count_failures(session.id)

    async def cog_unload(self) -> None:
        await self.sessions.flush()

    async def reconcile(self) -> None:
        """Rebuild the jobs of every open session from its row."""
        now = self.bot.clock.now()
        for session in self._open_by_channel.values():
            self._resumed.add(session.id)
            self._schedule(session, first_run=now)

    def _schedule(self, session: AttendanceSession, *, first_run: datetime | None = None) -> None:
        self.bot.jobs.schedule_every(
            ROTATE_JOB,
            session.id,
            session.interval_seconds,
            session.opened_at + timedelta(seconds=session.interval_seconds),
            first_run=first_run,
        )
        if session.closes_at is not None:
            self.bot.jobs.schedule_at(CLOSE_JOB, session.id, session.closes_at)

    def _unschedule(self, session_id: int) -> None:
        self.bot.jobs.cancel(ROTATE_JOB, session_id)
        self.bot.jobs.cancel(CLOSE_JOB, session_id)

    # ---- the code message ---------------------------------------------------------------

    def _current_code(self, session: AttendanceSession, now: datetime) -> tuple[int, str, datetime]:
        window = window_at(session.opened_at, session.interval_seconds, now)
        code = window_code(session.secret, window, session.code_length)
        return window, code, window_start(session.opened_at, session.interval_seconds, window + 1)

    async def _code_embed(self, session: AttendanceSession, now: datetime) -> tuple[int, discord.Embed]:
        window, code, window_ends = self._current_code(session, now)
        counts = await self.sessions.count_statuses(session.id)
        answered = counts["present"] + counts["late"]
        return window, code_message_embed(session, code=code, window_ends=window_ends, answered=answered)

    async def _show_code(self, session: AttendanceSession, now: datetime) -> None:
        """Edit the code message, posting it again if it was deleted. A deleted channel closes
        the session; a channel the bot may no longer use is reported to the admins once."""
        window, embed = await self._code_embed(session, now)
        shown = await self.delivery.refresh_post(session.channel_id, session.message_id, embed=embed)
        if shown.outcome is Outcome.GONE:
            log.warning("Channel %s of session %s is gone; closing the session", session.channel_id, session.id)
            await self._close(session, closed_by=None, now=now, reason="its channel was deleted")
            return
        if shown.outcome is Outcome.MISSING_PERMISSION:
            log.warning("Cannot show the code of session %s in channel %s", session.id, session.channel_id)
            if session.id not in self._blocked:
                self._blocked.add(session.id)
                names = ", ".join(permission_label(name) for name in shown.missing or CODE_MESSAGE_PERMISSIONS)
                await self.delivery.notify_admins(
                    session.guild_id,
                    f"⚠️ I can't show the code of roll call #{session.id} in <#{session.channel_id}>: give my role "
                    f"{names} there.",
                    fallback_user_id=session.opened_by,
                )
            return
        if not shown.delivered:
            # A network failure or a refusal: the next rotation tries again.
            log.warning("Code message of session %s not updated: %s", session.id, shown.explain())
            return
        if shown.message_id != session.message_id and shown.message_id is not None:
            await self.sessions.set_message(session.id, shown.message_id)
        self._blocked.discard(session.id)
        await self.sessions.set_shown_window(session.id, window)

    async def rotate_due_messages(self, now: datetime) -> None:
        """Scheduled: show the new code on every open session whose window has moved on."""
        for session in await self.sessions.list_open():
            if session.closes_at is not None and session.closes_at <= now:
                continue
            window = window_at(session.opened_at, session.interval_seconds, now)
            if window <= session.shown_window and session.id not in self._resumed:
                continue
            self._resumed.discard(session.id)
            await self._show_code(session, now)

    async def close_due_sessions(self, now: datetime) -> None:
        """Scheduled: close sessions whose duration is over. Each closes once (the row decides)."""
        for session in await self.sessions.list_due_to_close(now):
            await self._close(session, closed_by=None, now=now, reason="its time was up")

    # ---- closing ------------------------------------------------------------------------

    def _absentees(self, session: AttendanceSession) -> tuple[list[tuple[int, str, str]], str | None]:
        if session.expected_role_id is None:
            return [], None
        guild = self.bot.get_guild(session.guild_id)
        role = guild.get_role(session.expected_role_id) if guild else None
        if role is None:
            return [], "The expected role no longer exists, so no absences were recorded."
        members = [member for member in role.members if not member.bot]
        return [(member.id, member.name, member.display_name) for member in members], None

    async def _close(
        self, session: AttendanceSession, *, closed_by: int | None, now: datetime, reason: str | None = None
    ) -> ClosedRollCall | None:
        absentees, warning = self._absentees(session)
        report_id = await self.sessions.close(
            session.id,
            now=now,
            closed_by=closed_by,
            absentees=absentees,
            report=close_report_owed(session, reason=reason, warning=warning),
        )
        if report_id is None:
            return None
        self._open_by_channel.pop(session.channel_id, None)
        self._failures.pop(session.id, None)
        self._resumed.discard(session.id)
        self._blocked.discard(session.id)
        self._unschedule(session.id)
        closed = await self.sessions.get(session.id)
        assert closed is not None
        counts = await self.sessions.count_statuses(session.id)
        if closed.message_id is not None:
            marked = await self.delivery.edit(
                closed.channel_id, closed.message_id, embed=closed_message_embed(closed, counts)
            )
            if not marked.delivered:
                log.info("Could not mark the code message of session %s closed: %s", closed.id, marked.explain())
        report = await self.delivery.deliver_owed(report_id)
        await self.delivery.post_log(closed.guild_id, f"🗒️ {closed_line(closed, reason=reason)}")
        return ClosedRollCall(closed, counts, warning, report)

    async def _render_close_report(self, owed: OwedMessage) -> Parcel | None:
        """Owed close reports are built from the rows at each attempt (see cogs/attendance/report.py)."""
        session = await self.sessions.get(owed.subject_id or 0)
        if session is None:
            return None
        config = await self.bot.guild_configs.get(session.guild_id)
        return close_report(
            session,
            await self.sessions.count_statuses(session.id),
            await self.sessions.list_lockouts(session.id),
            reason=owed.payload.get("reason"),
            warning=owed.payload.get("warning"),
            timezone=config.timezone,
            session_csv=await self._csv_bytes(session, config),
            name_of=self._display_name_in(session.guild_id),
        )

    def _display_name_in(self, guild_id: int) -> Callable[[int], str | None]:
        guild = self.bot.get_guild(guild_id)

        def name_of(user_id: int) -> str | None:
            member = guild.get_member(user_id) if guild else None
            return member.display_name if member else None

        return name_of

    async def _csv_bytes(self, session: AttendanceSession, config: GuildConfig) -> bytes:
        records = await self.sessions.list_records(session.id)
        return session_csv(records, config.timezone, self._display_name_in(session.guild_id))

    # ---- session lookup -----------------------------------------------------------------

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

    def _open_sessions_in(self, guild_id: int) -> list[AttendanceSession]:
        return [s for s in self._open_by_channel.values() if s.guild_id == guild_id]

    @staff_autocomplete
    async def session_autocomplete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice]:
        config = await self.bot.guild_configs.get(interaction.guild_id)
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
    )
    @staff_only()
    async def attendance_open(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        interval: app_commands.Range[int, CODE_INTERVAL.low, CODE_INTERVAL.high] | None = None,
        length: app_commands.Range[int, CODE_LENGTH.low, CODE_LENGTH.high] | None = None,
        duration: app_commands.Range[int, ROLL_CALL_DURATION.low, ROLL_CALL_DURATION.high] | None = None,
        expected_role: discord.Role | None = None,
    ) -> None:
        config = await self.bot.guild_configs.get(interaction.guild_id)
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
        now = self.bot.clock.now()
        try:
            session = await self.sessions.open_session(
                guild_id=interaction.guild_id,
                channel_id=channel.id,
                opened_by=interaction.user.id,
                opened_at=now,
                closes_at=now + timedelta(minutes=duration) if duration else None,
                secret=new_secret(),
                interval_seconds=interval,
                code_length=length,
                grace_seconds=grace,
                late_after_minutes=config.late_after_minutes,
                expected_role_id=expected_role.id if expected_role else None,
            )
        except SessionAlreadyOpen:
            raise InvalidInput(
                f"A roll call is already open in {channel.mention}. Close it with `/attendance close` first, "
                "or open this one in another channel."
            ) from None
        _, embed = await self._code_embed(session, now)
        posted = await self.delivery.send(Target.channel(channel.id), embed=embed)
        if not posted.delivered or posted.message_id is None:
            await self.sessions.discard(session.id)
            raise RollcallError(
                f"I couldn't post the code message in {channel.mention}, so no roll call was opened. {posted.explain()}"
            )
        await self.sessions.set_message(session.id, posted.message_id)
        session = await self.sessions.get(session.id)
        assert session is not None
        self._open_by_channel[channel.id] = session
        self._failures[session.id] = {}
        self._schedule(session)
        closes = f", closes {discord_timestamp(session.closes_at, 'R')}" if session.closes_at else ""
        await send_reply(
            interaction,
            f"Roll call #{session.id} is open in {channel.mention}: a {length}-character code changes every "
            f"{interval} s{closes}. Close it with `/attendance close`.",
        )

    @app_commands.command(name="here", description="Answer the roll call with the code shown in this channel")
    @app_commands.describe(code="The code shown on the roll-call message right now")
    @app_commands.guild_only()
    async def here(self, interaction: discord.Interaction, code: app_commands.Range[str, 1, 32]) -> None:
        now = self.bot.clock.now()
        session = self._open_by_channel.get(interaction.channel_id)
        if session is None or (session.closes_at is not None and now >= session.closes_at):
            elsewhere = [s for s in self._open_sessions_in(interaction.guild_id) if s is not session]
            if elsewhere:
                where = _channel_list(elsewhere)
                raise InvalidInput(f"There is no roll call in this channel. Type `/here` in {where}, where it is open.")
            raise NotFound("There is no roll call open right now. Wait until your teacher opens one.")
        failures = self._failures.setdefault(session.id, {})
        user = interaction.user
        if failures.get(user.id, 0) >= MAX_FAILURES:
            raise NotAllowed(
                f"You entered {MAX_FAILURES} wrong or expired codes, so you are locked out of this roll call. "
                "Ask your teacher to mark you."
            )
        verdict = check_code(
            code,
            secret=session.secret,
            opened_at=session.opened_at,
            interval_seconds=session.interval_seconds,
            grace_seconds=session.grace_seconds,
            length=session.code_length,
            now=now,
        )
        if not verdict.accepted:
            result = await self.sessions.record_failure(session.id, user.id, now)
            failures[user.id] = result.failures
            if result.locked:
                raise NotAllowed(
                    f"That was your {MAX_FAILURES}th wrong or expired code, so you are now locked out of this roll "
                    "call. Ask your teacher to mark you."
                )
            left = MAX_FAILURES - result.failures
            tries = f"{left} {'try' if left == 1 else 'tries'} left"
            if verdict is Verdict.EXPIRED:
                raise InvalidInput(f"That code has expired. Type the code shown now ({tries}).")
            raise InvalidInput(f"That code is wrong. Check the code on the roll-call message ({tries}).")
        late = now >= session.opened_at + timedelta(minutes=session.late_after_minutes)
        try:
            outcome = await self.sessions.record_submission(
                Submission(
                    session_id=session.id,
                    user_id=user.id,
                    status="late" if late else "present",
                    submitted_at=now,
                    user_name=user.name,
                    display_name=user.display_name,
                )
            )
        except DatabaseBusy:
            raise RollcallError(
                "⏳ The roll call's database is busy right now, so your answer was not recorded. "
                "Send `/here` again in a moment."
            ) from None
        # The database decided what became of the answer; the reply says only that.
        if outcome.result is SubmissionResult.SESSION_CLOSED:
            raise NotFound(f"⏹️ Roll call #{session.id} has just closed; your answer was not recorded.")
        if outcome.result is SubmissionResult.CORRECTED:
            text = (
                f"📝 An organizer set your status in roll call #{session.id} to **{outcome.status}**, "
                "so your answer did not change it. Ask them if it is wrong."
            )
        elif outcome.status == "late":
            minutes = int((now - session.opened_at).total_seconds() // 60)
            text = f"🕒 You're marked **late** for roll call #{session.id} ({minutes} min after it opened)."
        else:
            text = f"✅ You're marked **present** for roll call #{session.id}."
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
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        session: int | None = None,
    ) -> None:
        open_sessions = self._open_sessions_in(interaction.guild_id)
        if session is not None:
            target = await self._session_option(interaction.guild_id, session)
            if not target.is_open:
                raise InvalidInput(f"Roll call #{target.id} is already closed.")
        elif channel is not None:
            target = self._open_by_channel.get(channel.id)
            if target is None:
                raise NotFound(f"There is no open roll call in {channel.mention}.")
        elif len(open_sessions) == 1:
            target = open_sessions[0]
        elif not open_sessions:
            raise NotFound("There is no open roll call to close.")
        else:
            where = _channel_list(open_sessions)
            raise InvalidInput(f"Several roll calls are open ({where}): pick one with the `channel` option.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self._close(target, closed_by=interaction.user.id, now=self.bot.clock.now())
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
    async def attendance_status(self, interaction: discord.Interaction) -> None:
        now = self.bot.clock.now()
        open_sessions = sorted(self._open_sessions_in(interaction.guild_id), key=lambda s: s.id)
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
                next_code_at=self._current_code(session, now)[2],
            )
            for session in open_sessions
        ]
        embed, lockouts_cut = status_embed(statuses)
        files = []
        if lockouts_cut:
            config = await self.bot.guild_configs.get(interaction.guild_id)
            data = lockouts_csv(statuses, config.timezone, self._display_name_in(interaction.guild_id))
            files.append(discord.File(io.BytesIO(data), filename=LOCKOUTS_FILE))
        await send_reply(interaction, embed=embed, files=files)

    def _channel_name(self, session: AttendanceSession) -> str:
        channel = self.bot.get_channel(session.channel_id)
        return getattr(channel, "name", str(session.channel_id))

    @attendance_group.command(name="sessions", description="List recent roll calls with their counts")
    @staff_only()
    async def attendance_sessions(self, interaction: discord.Interaction) -> None:
        embed, view = await render_sessions_page(self.bot, interaction.guild_id, 0)
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
        interaction: discord.Interaction,
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
            now=self.bot.clock.now(),
        )
        was = f"was {before}" if before else "had no record"
        text = f"{member.mention} is now **{status.value}** in roll call #{target.id} ({was})."
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
        self, interaction: discord.Interaction, member: discord.User, session: int | None = None
    ) -> None:
        # Deliberately open to users who are no longer members: a teacher must be able to clear
        # the record of a student who has since left the server.
        target = await self._session_option(interaction.guild_id, session)
        before = await self.sessions.unmark(
            target, user_id=member.id, actor_id=interaction.user.id, now=self.bot.clock.now()
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
    async def attendance_export(self, interaction: discord.Interaction, session: int | None = None) -> None:
        target = await self._session_option(interaction.guild_id, session)
        config = await self.bot.guild_configs.get(interaction.guild_id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        counts = await self.sessions.count_statuses(target.id)
        file = csv_attachment(target, await self._csv_bytes(target, config))
        await send_reply(interaction, f"Roll call #{target.id}: {counts_line(counts)}", files=[file])
