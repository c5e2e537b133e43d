"""Proof of presence (issue 15): who sits in the voice or stage channel a roll call tracks.

Presence lives in rows (storage/voice_presence.py). Voice-state events open and close a
member's interval as they happen; a snapshot of the channel at open, at every rotation and at
close puts right anything an event did not say. A restart closes the intervals where the bot
stopped watching and reopens them from a fresh snapshot once the guild is back in the cache:
the time between is a gap, counted neither as presence nor as absence."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import discord

from bot.clock import Clock
from cogs.attendance.verdicts import PresenceSummary, summarize
from storage.attendance import AttendanceRecord, AttendanceSession
from storage.voice_presence import VoicePresenceRepository
from utils.codes import window_start

log = logging.getLogger(__name__)


def last_rotation(session: AttendanceSession) -> datetime:
    """When the bot last showed a code for the session: the latest instant it is known to have
    been watching, which is where a crash left it."""
    return window_start(session.opened_at, session.interval_seconds, session.shown_window)


class PresenceWatch:
    def __init__(self, client: discord.Client, presence: VoicePresenceRepository, clock: Clock) -> None:
        self._client = client
        self._presence = presence
        self._clock = clock
        # Tracked voice channel id -> ids of the open sessions watching it; only sessions whose
        # intervals are live (after their start-up snapshot) are here.
        self._watching: dict[int, set[int]] = {}
        self._sessions: dict[int, AttendanceSession] = {}
        # Sessions found open at start-up, resumed once the guild's voice states are cached.
        self._to_resume: dict[int, AttendanceSession] = {}
        # Open, rotation, close, start-up and shutdown each read the channel and rewrite the
        # rows in steps; one at a time, so a rotation's snapshot cannot reopen intervals the
        # close has just ended, nor a start-up resume track a roll call closed meanwhile.
        self._steps = asyncio.Lock()

    def _channel(self, session: AttendanceSession) -> discord.VoiceChannel | discord.StageChannel | None:
        guild = self._client.get_guild(session.guild_id)
        channel = guild.get_channel(session.voice_channel_id or 0) if guild else None
        return channel if isinstance(channel, discord.VoiceChannel | discord.StageChannel) else None

    def sitting_in(self, session: AttendanceSession) -> list[int]:
        """Members in the tracked channel now, speakers and audience alike, bots left out."""
        channel = self._channel(session)
        if channel is None:
            return []
        return [member.id for member in channel.members if not member.bot]

    async def summary(
        self, session: AttendanceSession, records: list[AttendanceRecord], now: datetime
    ) -> PresenceSummary:
        """Minutes, percents and verdicts so far (to `now` while open, to the close after)."""
        return summarize(
            session,
            records,
            await self._presence.list_intervals(session.id),
            await self._presence.list_gaps(session.id),
            session.closed_at or now,
        )

    def in_voice(self, session: AttendanceSession, member: discord.abc.User) -> bool:
        voice = getattr(member, "voice", None)
        return voice is not None and voice.channel is not None and voice.channel.id == session.voice_channel_id

    def _track(self, session: AttendanceSession) -> None:
        assert session.voice_channel_id is not None
        self._sessions[session.id] = session
        self._watching.setdefault(session.voice_channel_id, set()).add(session.id)

    def _untrack(self, session_id: int) -> None:
        session = self._sessions.pop(session_id, None)
        self._to_resume.pop(session_id, None)
        if session is not None and session.voice_channel_id is not None:
            watchers = self._watching.get(session.voice_channel_id, set())
            watchers.discard(session_id)
            if not watchers:
                self._watching.pop(session.voice_channel_id, None)

    async def start(self, session: AttendanceSession, now: datetime) -> None:
        """A roll call just opened: whoever already sits in the channel is present from now."""
        if session.voice_channel_id is None:
            return
        async with self._steps:
            await self._presence.snapshot(session.id, self.sitting_in(session), now)
            self._track(session)

    async def refresh(self, session: AttendanceSession, now: datetime) -> None:
        """At each rotation: the channel as it is now, in case an event was missed."""
        async with self._steps:
            if session.id in self._sessions:
                await self._presence.snapshot(session.id, self.sitting_in(session), now)

    async def finish(self, session: AttendanceSession, now: datetime) -> None:
        """The roll call closes: a last snapshot, then every interval ends now."""
        if session.voice_channel_id is None:
            return
        async with self._steps:
            if session.id in self._to_resume:
                # Closed before its start-up resume (a duration that ran out while the bot was
                # down): what the last run left open ends where it stopped watching, and the
                # time since is a gap, not presence.
                await self._presence.resume(session.id, last_seen=last_rotation(session), now=now)
            watched = session.id in self._sessions
            # No event may reopen an interval after the close: later events are no longer
            # heard, and those already handed over land first.
            self._untrack(session.id)
            await self._presence.flush()
            if watched:
                await self._presence.snapshot(session.id, self.sitting_in(session), now)
            await self._presence.close_all(session.id, now)

    def found_open(self, session: AttendanceSession) -> None:
        """Start-up: the session's intervals wait for the guild's voice states (`resume_all`)."""
        if session.voice_channel_id is not None:
            self._to_resume[session.id] = session

    async def resume_all(self) -> None:
        """Once the guilds are cached: close what the last run left open, record the gap, and
        reopen from who sits in the channel now."""
        async with self._steps:
            now = self._clock.now()
            for session in list(self._to_resume.values()):
                stopped = await self._presence.resume(session.id, last_seen=last_rotation(session), now=now)
                log.info("roll call %s: voice presence resumed, unknown from %s to %s", session.id, stopped, now)
                await self._presence.snapshot(session.id, self.sitting_in(session), now)
                self._to_resume.pop(session.id, None)
                self._track(session)

    async def pause_all(self) -> None:
        """Clean shutdown: every live interval ends now, and the pause is remembered."""
        async with self._steps:
            now = self._clock.now()
            paused = list(self._sessions)
            for session_id in paused:
                self._untrack(session_id)
            await self._presence.flush()
            for session_id in paused:
                await self._presence.pause(session_id, now)

    def on_voice_state(self, member: discord.Member, before: discord.VoiceState, after: discord.VoiceState) -> None:
        """Called while discord.py parses the event (`Rollcall.voice_state_watch`), so `before` and
        `after` are this event's and the rows go to the group commit in the order events came."""
        if member.bot or not self._watching:
            return
        left = before.channel.id if before.channel else None
        joined = after.channel.id if after.channel else None
        # Mute, deafen, stage hand-raise and speaker changes: still in the same channel.
        if left == joined:
            return
        now = self._clock.now()
        for session_id in sorted(self._watching.get(left or 0, ())):
            self._presence.leave(session_id, member.id, now).add_done_callback(_log_failure)
        for session_id in sorted(self._watching.get(joined or 0, ())):
            self._presence.join(session_id, member.id, now).add_done_callback(_log_failure)


def _log_failure(written: asyncio.Future[None]) -> None:
    # Nobody awaits a voice event's write; the next rotation's snapshot puts right the one lost.
    if not written.cancelled() and written.exception() is not None:
        log.warning("A voice join or leave was not written (%r); the next snapshot corrects it", written.exception())
