"""Presence intervals in rows (storage/voice_presence.py, migration 0009) and their arithmetic
(utils/presence.py), on the selected backend."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import discord
import pytest

from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.outbox import OutboxRepository
from storage.voice_presence import VoicePresenceRepository
from tests.harness.private import connection_state
from tests.harness.voice import set_voice_state
from utils.codes import window_at, window_code
from utils.presence import Presence, presence_of, verdict

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


async def open_tracked(db, **overrides):
    attendance = AttendanceRepository(db, AuditRepository(db), OutboxRepository(db))
    values = dict(
        guild_id=1,
        channel_id=10,
        opened_by=2,
        opened_at=T0,
        closes_at=None,
        secret=b"s" * 16,
        interval_seconds=15,
        code_length=4,
        grace_seconds=3,
        late_after_minutes=10,
        expected_role_id=None,
        voice_channel_id=20,
        min_presence_percent=75,
        strict=True,
    )
    values.update(overrides)
    return await attendance.open_session(**values)


async def test_a_tracked_roll_call_keeps_its_voice_channel_threshold_and_strictness(db):
    session = await open_tracked(db)
    assert (session.voice_channel_id, session.min_presence_percent, session.strict_presence) == (20, 75, True)
    plain = await open_tracked(db, channel_id=11, voice_channel_id=None, min_presence_percent=50, strict=False)
    assert (plain.voice_channel_id, plain.strict_presence) == (None, False)


async def test_join_leave_rejoin_make_intervals_and_a_repeated_join_changes_nothing(db):
    session = await open_tracked(db)
    presence = VoicePresenceRepository(db)
    await presence.join(session.id, 7, minutes(0))
    await presence.join(session.id, 7, minutes(1))
    await presence.leave(session.id, 7, minutes(10))
    await presence.leave(session.id, 7, minutes(11))
    await presence.join(session.id, 7, minutes(20))
    spans = [(i.joined_at, i.left_at) for i in await presence.list_intervals(session.id)]
    assert spans == [(minutes(0), minutes(10)), (minutes(20), None)]


async def test_a_snapshot_opens_the_arrived_and_closes_the_gone(db):
    session = await open_tracked(db)
    presence = VoicePresenceRepository(db)
    await presence.snapshot(session.id, [7, 8], minutes(0))
    await presence.snapshot(session.id, [8, 9], minutes(5))
    got = [(i.user_id, i.joined_at, i.left_at) for i in await presence.list_intervals(session.id)]
    assert got == [(7, minutes(0), minutes(5)), (8, minutes(0), None), (9, minutes(5), None)]


async def test_after_a_clean_pause_the_gap_runs_from_the_pause_to_start_up(db):
    session = await open_tracked(db)
    presence = VoicePresenceRepository(db)
    await presence.join(session.id, 7, minutes(0))
    await presence.pause(session.id, minutes(10))
    stopped = await presence.resume(session.id, last_seen=minutes(9), now=minutes(30))
    assert stopped == minutes(10)
    assert [(g.started_at, g.ended_at) for g in await presence.list_gaps(session.id)] == [(minutes(10), minutes(30))]
    assert [(i.joined_at, i.left_at) for i in await presence.list_intervals(session.id)] == [(minutes(0), minutes(10))]


async def test_after_a_crash_open_intervals_end_at_the_last_rotation_never_before_they_began(db):
    session = await open_tracked(db)
    presence = VoicePresenceRepository(db)
    await presence.join(session.id, 7, minutes(0))
    await presence.join(session.id, 8, minutes(12))
    stopped = await presence.resume(session.id, last_seen=minutes(10), now=minutes(30))
    assert stopped == minutes(10)
    got = [(i.user_id, i.left_at) for i in await presence.list_intervals(session.id)]
    assert got == [(7, minutes(10)), (8, minutes(12))]
    assert [(g.started_at, g.ended_at) for g in await presence.list_gaps(session.id)] == [(minutes(10), minutes(30))]


def test_presence_counts_overlaps_once_and_leaves_gaps_out_of_the_percent():
    spans = [(minutes(0), minutes(10)), (minutes(5), minutes(20)), (minutes(40), None)]
    got = presence_of(spans, [(minutes(20), minutes(40))], minutes(0), minutes(60))
    assert got == Presence(seconds=40 * 60, known_seconds=40 * 60)
    assert (got.minutes, got.percent) == (40.0, 100.0)


def test_verdicts():
    full, half, none = Presence(3600, 3600), Presence(1500, 3600), Presence(0, 3600)
    assert verdict("present", corrected=False, presence=full, min_percent=50) == "present"
    assert verdict("late", corrected=False, presence=full, min_percent=50) == "late"
    assert verdict("present", corrected=False, presence=half, min_percent=50) == "left early"
    assert verdict("present", corrected=False, presence=none, min_percent=50) == "not in voice"
    assert verdict(None, corrected=False, presence=full, min_percent=50) == "absent"
    assert verdict("present", corrected=True, presence=none, min_percent=50) == "present"
    assert verdict("excused", corrected=True, presence=none, min_percent=50) == "excused"


# ---- through the bot: /attendance open voice:, intervals from voice-state events ---------------


async def configure(h):
    result = await h.command(
        "config set",
        user="admin",
        channel="admin",
        admin_channel=h.channel("admin"),
        attendance_channel=h.channel("attendance"),
    )
    assert "Saved" in result.text, result.text


def voice_channel(h, name="lecture-voice"):
    return discord.utils.get(h.guild.channels, name=name)


async def open_voice(h, name="lecture-voice", **options):
    result = await h.command("attendance open", user="admin", channel="admin", voice=voice_channel(h, name), **options)
    assert "is open in" in result.text, result.text
    return result, await h.bot.attendance.get_latest(h.guild.id)


async def spans_of(h, session_id):
    rows = await h.bot.voice_presence.list_intervals(session_id)
    named = {h.discord.world.member(row.user_id).name: [] for row in rows}
    for row in rows:
        named[h.discord.world.member(row.user_id).name].append((row.joined_at, row.left_at))
    return named


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def test_open_with_voice_snapshots_who_already_sits_there_bots_left_out(configured, clock):
    h = configured
    await h.voice_join("student", "lecture-voice")
    await h.voice_join("student2", "hallway-voice")
    musicbot = h.add_member("musicbot", bot=True)
    await h.voice_join(musicbot, "lecture-voice")
    result, session = await open_voice(h, min_presence_percent=75)
    assert "Presence in" in result.text and "75%" in result.text and "flagged" in result.text
    assert (session.voice_channel_id, session.min_presence_percent, session.strict_presence) == (
        voice_channel(h).id,
        75,
        False,
    )
    assert await spans_of(h, session.id) == {"student": [(clock.now(), None)]}


async def test_join_leave_move_and_rejoin_become_intervals_at_the_clock(configured, clock):
    h = configured
    _, session = await open_voice(h)
    t0 = clock.now()
    clock.advance(minutes=2)
    await h.voice_join("student", "lecture-voice")
    clock.advance(minutes=10)
    await h.voice_join("student", "hallway-voice")  # moved out by a moderator
    clock.advance(minutes=5)
    await h.voice_join("student", "lecture-voice")  # moved back
    clock.advance(minutes=3)
    await h.voice_leave("student")
    clock.advance(minutes=1)
    await h.voice_join("student", "lecture-voice")  # rejoined
    at = lambda m: t0 + timedelta(minutes=m)  # noqa: E731
    assert await spans_of(h, session.id) == {"student": [(at(2), at(12)), (at(17), at(20)), (at(21), None)]}


async def test_a_stage_counts_speakers_and_audience_alike(configured, clock):
    h = configured
    await h.voice_join("student", "lecture-stage", speaker=True)
    _, session = await open_voice(h, "lecture-stage")
    await h.voice_join("student2", "lecture-stage")
    assert set(await spans_of(h, session.id)) == {"student", "student2"}


async def test_mute_and_stage_speaker_changes_do_not_split_an_interval(configured, clock):
    h = configured
    _, session = await open_voice(h, "lecture-stage")
    await h.voice_join("student", "lecture-stage")
    clock.advance(minutes=1)
    await h.voice_join("student", "lecture-stage", speaker=True)  # invited to speak
    assert await spans_of(h, session.id) == {"student": [(clock.now() - timedelta(minutes=1), None)]}


async def test_a_rotation_snapshot_catches_a_member_whose_event_was_missed(configured, clock):
    h = configured
    _, session = await open_voice(h)
    h.voice_seed("student3", "lecture-voice")  # no event reached the bot
    clock.advance(seconds=session.interval_seconds)
    await h.bot.run_due_jobs()
    assert await spans_of(h, session.id) == {"student3": [(clock.now(), None)]}


async def test_close_ends_every_interval_at_the_close(configured, clock):
    h = configured
    await h.voice_join("student", "lecture-voice")
    _, session = await open_voice(h)
    clock.advance(minutes=30)
    result = await h.command("attendance close", user="admin", channel="admin")
    assert "Closed" in result.text, result.text
    assert await spans_of(h, session.id) == {"student": [(clock.now() - timedelta(minutes=30), clock.now())]}
    clock.advance(minutes=1)
    await h.voice_leave("student")
    assert await spans_of(h, session.id) == {
        "student": [(clock.now() - timedelta(minutes=31), clock.now() - timedelta(minutes=1))]
    }


@pytest.mark.parametrize("options", [{"min_presence_percent": 60}, {"strict": True}])
async def test_presence_options_without_a_voice_channel_are_refused_and_nothing_opens(configured, options):
    h = configured
    result = await h.command("attendance open", user="admin", channel="admin", **options)
    assert "need a `voice` channel" in result.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None


# ---- /here: strict refusal, flagged acceptance -----------------------------------------------


async def code_now(h, session):
    window = window_at(session.opened_at, session.interval_seconds, h.bot.clock.now())
    return window_code(session.secret, window, session.code_length)


async def test_strict_here_from_outside_voice_is_refused_costs_no_try_and_records_nothing(configured):
    h = configured
    _, session = await open_voice(h, strict=True)
    await h.voice_join("student", "hallway-voice")
    result = await h.command("here", user="student", channel="attendance", code=await code_now(h, session))
    assert "counts only members sitting in" in result.text and f"<#{voice_channel(h).id}>" in result.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None
    assert await h.bot.attendance.count_failures(session.id) == {}


async def test_strict_here_from_inside_voice_is_accepted(configured):
    h = configured
    _, session = await open_voice(h, strict=True)
    await h.voice_join("student", "lecture-voice")
    result = await h.command("here", user="student", channel="attendance", code=await code_now(h, session))
    assert "marked **present**" in result.text and "not in voice" not in result.text


async def test_lenient_here_from_outside_voice_is_accepted_and_flagged(configured):
    h = configured
    _, session = await open_voice(h)
    result = await h.command("here", user="student", channel="attendance", code=await code_now(h, session))
    assert "marked **present**" in result.text and "Flagged **not in voice**" in result.text
    record = await h.bot.attendance.get_record(session.id, h.member("student").id)
    assert record.status == "present"


async def test_here_in_a_roll_call_without_voice_is_never_flagged(configured):
    h = configured
    result = await h.command("attendance open", user="admin", channel="admin")
    assert "is open in" in result.text
    session = await h.bot.attendance.get_latest(h.guild.id)
    result = await h.command("here", user="student", channel="attendance", code=await code_now(h, session))
    assert "marked **present**" in result.text and "voice" not in result.text


# ---- verdicts at close, status, CSV, corrections ---------------------------------------------


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def answer(h, session, user):
    result = await h.command("here", user=user, channel="attendance", code=await code_now(h, session))
    assert "You're marked" in result.text, result.text


async def export(h, session):
    result = await h.command("attendance export", user="admin", channel="admin", session=session.id)
    return {row["user_name"]: row for row in parse_csv(result.reply.files[0][1])}


async def small_class(h, clock):
    """A 60-minute roll call with min 50%: student sits 60 min and answers on time (present);
    student2 answers 15 min in, then sits 45 min (late); student3 answers from the hallway and
    never joins (not in voice); organizer sits 20 min of it after answering (left early);
    member sits 30 min and never answers (in voice, no code)."""
    await h.voice_join("student", "lecture-voice")
    _, session = await open_voice(h)
    await answer(h, session, "student")
    await answer(h, session, "student3")
    await h.voice_join("organizer", "lecture-voice")
    await answer(h, session, "organizer")
    clock.advance(minutes=15)
    await h.voice_join("student2", "lecture-voice")
    await answer(h, session, "student2")
    await h.voice_join("member", "lecture-voice")
    clock.advance(minutes=5)
    await h.voice_leave("organizer")
    clock.advance(minutes=25)
    await h.voice_leave("member")
    clock.advance(minutes=15)
    return session


async def test_each_verdict_with_exact_minutes_and_percent_in_the_report_and_csv(configured, clock, discord_side):
    h = configured
    session = await small_class(h, clock)
    result = await h.command("attendance close", user="admin", channel="admin")
    assert "Closed" in result.text, result.text
    report = discord_side.channel_messages(h.channel("admin").id)[-1]
    assert "1 present · 1 late · 1 left early · 1 not in voice · 1 absent · 0 excused" in report.content
    assert f"In voice, no code (1): <@{h.member('member').id}>" in report.content
    rows = await export(h, session)
    got = {
        name: (row["status"], row["minutes_in_voice"], row["presence_percent"], row["verdict"])
        for name, row in rows.items()
    }
    assert got == {
        "student": ("present", "60.0", "100.0", "present"),
        "student2": ("late", "45.0", "75.0", "late"),
        "student3": ("present", "0.0", "0.0", "not in voice"),
        "organizer": ("present", "20.0", "33.3", "left early"),
        "member": ("", "30.0", "50.0", "absent"),
    }


async def test_a_correction_wins_over_the_verdict_and_is_audited(configured, clock):
    h = configured
    session = await small_class(h, clock)
    await h.command("attendance close", user="admin", channel="admin")
    result = await h.command(
        "attendance mark",
        user="admin",
        channel="admin",
        member=h.member("organizer"),
        status="present",
        session=session.id,
    )
    assert "is now **present**" in result.text, result.text
    assert f"In <#{session.voice_channel_id}>: 20 min (33.3% of the roll call); verdict **present**" in result.text
    rows = await export(h, session)
    assert rows["organizer"]["verdict"] == "present"
    assert rows["organizer"]["minutes_in_voice"] == "20.0"
    audit = await h.bot.audit.list(h.guild.id, action_prefix="attendance.mark")
    assert [(entry.before_value, entry.after_value) for entry in audit] == [("present", "present")]


async def test_status_shows_who_is_in_voice_and_the_verdicts_so_far(configured, clock):
    h = configured
    _, session = await open_voice(h)
    await h.voice_join("student", "lecture-voice")
    await h.voice_join("member", "lecture-voice")
    await answer(h, session, "student")
    clock.advance(minutes=10)
    result = await h.command("attendance status", user="admin", channel="admin")
    field = result.reply.embeds[0]["fields"][0]["value"]
    assert f"In <#{voice_channel(h).id}> now: 2" in field
    assert "So far: 1 present" in field
    assert f"In voice, no code (1): <@{h.member('member').id}>" in field


async def test_a_roll_call_without_voice_keeps_its_csv_columns(configured):
    h = configured
    await h.command("attendance open", user="admin", channel="admin")
    session = await h.bot.attendance.get_latest(h.guild.id)
    await answer(h, session, "student")
    rows = await export(h, session)
    assert "verdict" not in rows["student"]


async def test_a_join_and_leave_parsed_back_to_back_both_count(configured, clock):
    """Events of a burst are parsed before any listener runs; each keeps its own before/after."""
    h = configured
    _, session = await open_voice(h)
    state = connection_state(h.bot)
    spec = h.discord.world.user_named("student")
    set_voice_state(state, h.discord.world, spec, "lecture-voice")
    set_voice_state(state, h.discord.world, spec, None)
    await h.idle()
    assert await spans_of(h, session.id) == {"student": [(clock.now(), clock.now())]}
