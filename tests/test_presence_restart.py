"""Presence across restarts: a clean shutdown closes the intervals at its instant, a crash leaves
them open and they close at the last rotation; either way they reopen from a fresh snapshot at
start-up and the time between is unknown, neither presence nor absence."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import discord

from bot.clock import ManualClock
from cogs.attendance.presence import PresenceWatch
from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.outbox import OutboxRepository
from storage.voice_presence import VoicePresenceRepository
from tests.test_presence import answer, configure, minutes, open_tracked, open_voice


def voice_channel(h):
    return discord.utils.get(h.guild.channels, name="lecture-voice")


async def spans(h, session_id, name):
    user_id = h.discord.world.user_named(name).id
    rows = await h.bot.voice_presence.list_intervals(session_id)
    return [(row.joined_at, row.left_at) for row in rows if row.user_id == user_id]


async def gaps(h, session_id):
    return [(gap.started_at, gap.ended_at) for gap in await h.bot.voice_presence.list_gaps(session_id)]


async def close_and_export(h, session):
    result = await h.command("attendance close", user="admin", channel="admin")
    assert "Closed" in result.text, result.text
    result = await h.command("attendance export", user="admin", channel="admin", session=session.id)
    rows = csv.DictReader(io.StringIO(result.reply.files[0][1].decode("utf-8-sig")))
    return {row["user_name"]: row for row in rows}


async def test_a_clean_restart_closes_at_shutdown_reopens_at_start_up_and_the_gap_is_unknown(running, clock):
    h = running.harness
    await configure(h)
    await h.voice_join("student", "lecture-voice")
    _, session = await open_voice(h)
    await answer(h, session, "student")
    t0 = clock.now()
    clock.advance(minutes=10)
    await running.stop()
    clock.advance(minutes=5)
    h = await running.start()
    assert await spans(h, session.id, "student") == [
        (t0, t0 + timedelta(minutes=10)),
        (t0 + timedelta(minutes=15), None),
    ]
    assert await gaps(h, session.id) == [(t0 + timedelta(minutes=10), t0 + timedelta(minutes=15))]
    clock.advance(minutes=5)
    rows = await close_and_export(h, session)
    # 15 minutes in voice out of the 15 known: the 5 unwatched minutes are not held against them.
    assert (rows["student"]["minutes_in_voice"], rows["student"]["presence_percent"]) == ("15.0", "100.0")
    assert rows["student"]["verdict"] == "present"


async def test_a_member_who_left_while_the_bot_was_down_is_not_reopened(running, clock):
    h = running.harness
    await configure(h)
    await h.voice_join("student", "lecture-voice")
    _, session = await open_voice(h)
    t0 = clock.now()
    clock.advance(minutes=10)
    await running.stop()
    running.world.voice_states.pop(running.world.user_named("student").id)
    clock.advance(minutes=5)
    h = await running.start()
    assert await spans(h, session.id, "student") == [(t0, t0 + timedelta(minutes=10))]
    assert h.member("student").voice is None


async def test_after_a_crash_open_intervals_close_at_the_last_rotation(running, clock):
    h = running.harness
    await configure(h)
    await h.voice_join("student", "lecture-voice")
    _, session = await open_voice(h)
    t0 = clock.now()
    clock.advance(minutes=1)
    await h.bot.run_due_jobs()
    # The bot hangs (no rotation) for two minutes, then dies.
    clock.advance(minutes=2)
    await h.voice_join("student2", "lecture-voice")
    await running.crash()
    clock.advance(minutes=5)
    h = await running.start()
    last_rotation = t0 + timedelta(minutes=1)
    restarted = t0 + timedelta(minutes=8)
    assert await spans(h, session.id, "student") == [(t0, last_rotation), (restarted, None)]
    # Joined after the last rotation: closed where it began, never before.
    joined = t0 + timedelta(minutes=3)
    assert await spans(h, session.id, "student2") == [(joined, joined), (restarted, None)]
    assert await gaps(h, session.id) == [(last_rotation, restarted)]


async def test_voice_events_after_a_restart_still_reach_the_roll_call(running, clock):
    h = running.harness
    await configure(h)
    _, session = await open_voice(h)
    h = await running.restart()
    clock.advance(minutes=1)
    await h.voice_join("student3", "lecture-voice")
    assert await spans(h, session.id, "student3") == [(clock.now(), None)]


async def test_a_roll_call_closed_before_its_start_up_resume_leaves_the_downtime_unknown(db):
    """At start-up a close that fell due while the bot was down may run before the guild's voice
    states are cached: the intervals a crash left open still end at the last rotation."""
    attendance = AttendanceRepository(db, AuditRepository(db), OutboxRepository(db))
    presence = VoicePresenceRepository(db)
    session = await open_tracked(db)
    await presence.join(session.id, 7, minutes(0))
    await attendance.claim_window(session.id, 4)  # the code shown at minute 1, then the crash
    found = await attendance.get(session.id)
    watch = PresenceWatch(discord.Client(intents=discord.Intents.none()), presence, ManualClock(minutes(10)))
    watch.found_open(found)
    await watch.finish(found, minutes(10))
    assert [(i.joined_at, i.left_at) for i in await presence.list_intervals(session.id)] == [(minutes(0), minutes(1))]
    assert [(g.started_at, g.ended_at) for g in await presence.list_gaps(session.id)] == [(minutes(1), minutes(10))]
