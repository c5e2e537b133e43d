"""Presence intervals in rows (storage/voice_presence.py, migration 0009) and their arithmetic
(utils/presence.py), on the selected backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.outbox import OutboxRepository
from storage.voice_presence import VoicePresenceRepository
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
    assert (session.voice_channel_id, session.min_presence_percent, session.strict) == (20, 75, True)
    plain = await open_tracked(db, channel_id=11, voice_channel_id=None, min_presence_percent=50, strict=False)
    assert (plain.voice_channel_id, plain.strict) == (None, False)


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
