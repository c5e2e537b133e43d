"""The open roll calls: opening one, its code message (a tracked post) shown anew at each code
change, closing it by hand or when its time is up, and its close report."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NamedTuple

import discord

from bot.clock import Clock
from bot.delivery import Delivery, Handover, Parcel, Target
from bot.errors import InvalidInput, RollcallError
from bot.members import NameOf, display_names
from bot.scheduler import JobScheduler
from bot.tracked_post import TrackedPost, TrackedPosts
from cogs.attendance.presence import PresenceWatch
from cogs.attendance.report import CLOSE_REPORT_KIND, close_report, close_report_owed, closed_line
from cogs.attendance.verdicts import PresenceSummary
from cogs.attendance.views import closed_message_embed, code_message_embed, session_table
from storage.attendance import AttendanceRecord, AttendanceRepository, AttendanceSession, SessionAlreadyOpen
from storage.guild_config import GuildConfig, GuildConfigRepository
from storage.outbox import OwedMessage
from utils.codes import new_secret, window_at, window_code, window_start
from utils.csv_export import Table
from utils.limits import DEFAULT_MIN_PRESENCE_PERCENT

log = logging.getLogger(__name__)

ROTATE_JOB = "attendance.rotate"
CLOSE_JOB = "attendance.close"


class ClosedRollCall(NamedTuple):
    session: AttendanceSession
    counts: dict[str, int]
    warning: str | None
    report: Handover


class RollCallSettings(NamedTuple):
    """What `/attendance open` settled on, checked, before the row exists."""

    channel: discord.TextChannel
    interval_seconds: int
    code_length: int
    grace_seconds: int
    late_after_minutes: int
    duration_minutes: int | None
    expected_role_id: int | None
    event_id: int | None = None
    # Proof of presence: the voice or stage channel to watch, if any (cogs/attendance/presence.py).
    voice_channel_id: int | None = None
    min_presence_percent: int = DEFAULT_MIN_PRESENCE_PERCENT
    strict: bool = False


class RollCalls:
    def __init__(
        self,
        client: discord.Client,
        sessions: AttendanceRepository,
        configs: GuildConfigRepository,
        delivery: Delivery,
        posts: TrackedPosts,
        jobs: JobScheduler,
        clock: Clock,
        presence: PresenceWatch,
    ) -> None:
        self._client = client
        self.presence = presence
        self._sessions = sessions
        self._configs = configs
        self._delivery = delivery
        self._posts = posts
        self._jobs = jobs
        self._clock = clock
        # Caches of rows, rebuilt from the database at load and updated after each commit,
        # so the /here hot path needs no read queries.
        self._open_by_channel: dict[int, AttendanceSession] = {}
        self._failures: dict[int, dict[int, int]] = {}
        # Sessions found open at start-up: their code message is checked (or re-posted) first.
        self._resumed: set[int] = set()

    async def load(self) -> None:
        self._jobs.register(CLOSE_JOB, self.close_when_due)
        self._jobs.register(ROTATE_JOB, self.rotate_code)
        self._delivery.register(CLOSE_REPORT_KIND, self._render_close_report)
        for session in await self._sessions.list_open():
            # Another shard process serves the other guilds' roll calls, their /here and their jobs.
            if not self._jobs.owns_guild(session.guild_id):
                continue
            self._open_by_channel[session.channel_id] = session
            self._failures[session.id] = await self._sessions.count_failures(session.id)
            self.presence.found_open(session)

    def reconcile(self) -> None:
        """Rebuild the jobs of every open session from its row."""
        now = self._clock.now()
        for session in self._open_by_channel.values():
            self._resumed.add(session.id)
            self._schedule(session, first_run=now)

    # ---- the cache of open sessions -----------------------------------------------------

    def in_channel(self, channel_id: int | None) -> AttendanceSession | None:
        return self._open_by_channel.get(channel_id or 0)

    def open_in(self, guild_id: int | None) -> list[AttendanceSession]:
        return [s for s in self._open_by_channel.values() if s.guild_id == guild_id]

    def failures_in(self, session_id: int) -> dict[int, int]:
        """Wrong codes per member of an open session, kept up to date by the /here path."""
        return self._failures.setdefault(session_id, {})

    # ---- scheduling ---------------------------------------------------------------------

    def _schedule(self, session: AttendanceSession, *, first_run: datetime | None = None) -> None:
        self._jobs.schedule_every(
            ROTATE_JOB,
            session.id,
            session.interval_seconds,
            session.opened_at + timedelta(seconds=session.interval_seconds),
            first_run=first_run,
        )
        if session.closes_at is not None:
            self._jobs.schedule_at(CLOSE_JOB, session.id, session.closes_at)

    def _unschedule(self, session_id: int) -> None:
        self._jobs.cancel(ROTATE_JOB, session_id)
        self._jobs.cancel(CLOSE_JOB, session_id)

    # ---- opening ------------------------------------------------------------------------

    async def open(self, settings: RollCallSettings, *, guild_id: int, opened_by: int) -> AttendanceSession:
        """Create the row, post its code message and start its jobs; without a posted code
        message no roll call is left behind."""
        now = self._clock.now()
        channel = settings.channel
        duration = settings.duration_minutes
        try:
            session = await self._sessions.open_session(
                guild_id=guild_id,
                channel_id=channel.id,
                opened_by=opened_by,
                opened_at=now,
                closes_at=now + timedelta(minutes=duration) if duration else None,
                secret=new_secret(),
                interval_seconds=settings.interval_seconds,
                code_length=settings.code_length,
                grace_seconds=settings.grace_seconds,
                late_after_minutes=settings.late_after_minutes,
                expected_role_id=settings.expected_role_id,
                event_id=settings.event_id,
                voice_channel_id=settings.voice_channel_id,
                min_presence_percent=settings.min_presence_percent,
                strict=settings.strict,
            )
        except SessionAlreadyOpen:
            raise InvalidInput(
                f"A roll call is already open in {channel.mention}. Close it with `/attendance close` first, "
                "or open this one in another channel."
            ) from None
        _, embed = await self._code_embed(session, now)
        posted = await self._delivery.send(Target.channel(channel.id), embed=embed)
        if not posted.delivered or posted.message_id is None:
            await self._sessions.discard(session.id)
            raise RollcallError(
                f"I couldn't post the code message in {channel.mention}, so no roll call was opened. {posted.explain()}"
            )
        await self._sessions.set_message(session.id, posted.message_id)
        opened = await self._sessions.get(session.id)
        assert opened is not None
        await self.presence.start(opened, now)
        self._open_by_channel[channel.id] = opened
        self._failures[opened.id] = {}
        self._schedule(opened)
        return opened

    # ---- the code message ---------------------------------------------------------------

    def current_code(self, session: AttendanceSession, now: datetime) -> tuple[int, str, datetime]:
        """The current window, its code and when the next one starts."""
        window = window_at(session.opened_at, session.interval_seconds, now)
        code = window_code(session.secret, window, session.code_length)
        return window, code, window_start(session.opened_at, session.interval_seconds, window + 1)

    async def _code_embed(self, session: AttendanceSession, now: datetime) -> tuple[int, discord.Embed]:
        window, code, window_ends = self.current_code(session, now)
        counts = await self._sessions.count_statuses(session.id)
        answered = counts["present"] + counts["late"]
        return window, code_message_embed(session, code=code, window_ends=window_ends, answered=answered)

    def _code_post(self, session: AttendanceSession, *, now: datetime) -> TrackedPost:
        async def store(message_id: int) -> None:
            await self._sessions.set_message(session.id, message_id)

        async def close_with_channel() -> None:
            await self.close(session, closed_by=None, now=now, reason="its channel was deleted")

        return TrackedPost(
            key=f"attendance.session:{session.id}",
            guild_id=session.guild_id,
            channel_id=session.channel_id,
            message_id=session.message_id,
            subject=f"the code of roll call #{session.id}",
            store=store,
            fallback_user_id=session.opened_by,
            on_channel_gone=close_with_channel,
        )

    async def _show_code(self, session: AttendanceSession, now: datetime, *, resuming: bool) -> None:
        """Show the current code once: the window is claimed first (see bot/scheduler.py), so of
        two processes rotating the same session only one edits. A session resumed at start-up
        is shown even when its window was already shown, since its message may be stale or gone."""
        window = window_at(session.opened_at, session.interval_seconds, now)
        claimed = await self._sessions.claim_window(session.id, window)
        if not claimed and not resuming:
            return
        _, embed = await self._code_embed(session, now)
        shown = await self._posts.refresh(self._code_post(session, now=now), embed=embed)
        if claimed and not shown.delivered:
            await self._sessions.release_window(session.id, window, session.shown_window)

    async def rotate_code(self, session_id: int, now: datetime) -> None:
        """Scheduled: show the new code once the session's window has moved on (at once for a
        session found open at start-up, whose message may be stale or deleted)."""
        session = await self._sessions.get(session_id)
        if session is None or not session.is_open:
            return
        if session.closes_at is not None and session.closes_at <= now:
            return
        await self.presence.refresh(session, now)
        window = window_at(session.opened_at, session.interval_seconds, now)
        resuming = session.id in self._resumed
        if window <= session.shown_window and not resuming:
            return
        self._resumed.discard(session.id)
        await self._show_code(session, now, resuming=resuming)

    async def close_when_due(self, session_id: int, now: datetime) -> None:
        """Scheduled: close the session when its duration is over. It closes once (the row decides)."""
        session = await self._sessions.get(session_id)
        if session is None or not session.is_open or session.closes_at is None or session.closes_at > now:
            return
        await self.close(session, closed_by=None, now=now, reason="its time was up")

    # ---- closing ------------------------------------------------------------------------

    def _absentees(self, session: AttendanceSession) -> tuple[list[tuple[int, str, str]], str | None]:
        if session.expected_role_id is None:
            return [], None
        guild = self._client.get_guild(session.guild_id)
        role = guild.get_role(session.expected_role_id) if guild else None
        if role is None:
            return [], "The expected role no longer exists, so no absences were recorded."
        members = [member for member in role.members if not member.bot]
        return [(member.id, member.name, member.display_name) for member in members], None

    async def close(
        self, session: AttendanceSession, *, closed_by: int | None, now: datetime, reason: str | None = None
    ) -> ClosedRollCall | None:
        """Close the session once (None when it was already closed), mark its code message closed
        and deliver its report."""
        absentees, warning = self._absentees(session)
        report_id = await self._sessions.close(
            session.id,
            now=now,
            closed_by=closed_by,
            absentees=absentees,
            report=close_report_owed(session, reason=reason, warning=warning),
        )
        # Closed here or, just before, by another process: either way it is no longer open here.
        self._open_by_channel.pop(session.channel_id, None)
        self._failures.pop(session.id, None)
        self._resumed.discard(session.id)
        self._unschedule(session.id)
        # Before the report renders: it reads the intervals, which must all have ended.
        await self.presence.finish(session, now)
        if report_id is None:
            return None
        closed = await self._sessions.get(session.id)
        assert closed is not None
        counts = await self._sessions.count_statuses(session.id)
        await self._posts.finish(self._code_post(closed, now=now), embed=closed_message_embed(closed, counts))
        report = await self._delivery.deliver_owed(report_id)
        await self._delivery.post_log(closed.guild_id, f"🗒️ {closed_line(closed, reason=reason)}")
        return ClosedRollCall(closed, counts, warning, report)

    async def _render_close_report(self, owed: OwedMessage) -> Parcel | None:
        """Owed close reports are built from the rows at each attempt (see cogs/attendance/report.py)."""
        session = await self._sessions.get(owed.subject_id or 0)
        if session is None:
            return None
        config = await self._configs.get(session.guild_id)
        # The records and the presence read once: the CSV and the report's verdicts share them.
        records = await self._sessions.list_records(session.id)
        presence = await self.presence_summary(session, records)
        name_of = self.display_name_in(session.guild_id)
        return close_report(
            session,
            await self._sessions.count_statuses(session.id),
            await self._sessions.list_lockouts(session.id),
            reason=owed.payload.get("reason"),
            warning=owed.payload.get("warning"),
            timezone=config.timezone,
            session_csv=session_table(records, config.timezone, name_of, presence).build(),
            name_of=name_of,
            presence=presence,
        )

    # ---- names and files ----------------------------------------------------------------

    def display_name_in(self, guild_id: int) -> NameOf:
        return display_names(self._client.get_guild(guild_id))

    async def presence_summary(
        self, session: AttendanceSession, records: list[AttendanceRecord] | None = None
    ) -> PresenceSummary | None:
        if session.voice_channel_id is None:
            return None
        if records is None:
            records = await self._sessions.list_records(session.id)
        return await self.presence.summary(session, records, self._clock.now())

    async def csv_table(self, session: AttendanceSession, config: GuildConfig) -> Table[AttendanceRecord | int]:
        records = await self._sessions.list_records(session.id)
        presence = await self.presence_summary(session, records)
        return session_table(records, config.timezone, self.display_name_in(session.guild_id), presence)
