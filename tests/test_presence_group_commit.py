"""Voice events and /here answers share the group commit's writer (storage/group_commit.py): one
transaction per window whatever the mix, a held kind never holds up another, a row the database
refuses fails only its own caller, and a member's events land in the order they happened."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage.attendance import AttendanceRepository, Submission, SubmissionResult
from storage.audit import AuditRepository
from storage.group_commit import BatchWriter
from storage.outbox import OutboxRepository
from storage.voice_presence import VoicePresenceRepository
from tests.harness.private import connection_state
from tests.harness.voice import set_voice_state
from tests.test_attendance_hotpath import finish, reply_to, start
from tests.test_presence import configure, minutes, open_tracked, open_voice, spans_of

# Long enough for a close that does not wait to finish; it is never waited for in full otherwise.
HELD_SECONDS = 0.2


def answer(session_id: int, user_id: int) -> Submission:
    return Submission(session_id, user_id, "present", minutes(1), f"user{user_id}", f"User {user_id}")


async def test_rows_of_two_kinds_submitted_together_share_one_transaction(db):
    writer = BatchWriter(db)
    seen: dict[str, list[object]] = {"answers": [], "voice": []}

    def recording(kind: str):
        async def write(transaction, rows):
            seen[kind].append(transaction)
            return [None] * len(rows)

        return write

    answers = writer.committer(recording("answers"), key=lambda row: row)
    voice = writer.committer(recording("voice"), key=lambda row: row)
    await asyncio.gather(*(answers.submit(n) for n in range(3)), *(voice.submit(n) for n in range(2)))
    assert len(seen["answers"]) == len(seen["voice"]) == 1
    assert seen["answers"][0] is seen["voice"][0]


async def test_background_rows_only_fill_the_room_a_batch_has_left(db):
    """Voice rows submitted first still leave the answers' places to them."""
    writer = BatchWriter(db, max_batch=3)
    batches: list[tuple[object, str, list[int]]] = []

    def recording(kind: str):
        async def write(transaction, rows):
            batches.append((transaction, kind, list(rows)))
            return [None] * len(rows)

        return write

    answers = writer.committer(recording("answers"), key=lambda row: row)
    voice = writer.committer(recording("voice"), key=lambda row: row, background=True)
    await asyncio.gather(*(voice.submit(n) for n in range(5)), *(answers.submit(n) for n in range(2)))
    transactions = [transaction for transaction, _, _ in batches]
    grouped = [
        [(kind, rows) for t, kind, rows in batches if t is transaction] for transaction in dict.fromkeys(transactions)
    ]
    assert grouped == [[("answers", [0, 1]), ("voice", [0])], [("voice", [1, 2, 3])], [("voice", [4])]]


async def test_answers_and_voice_events_of_one_window_both_land(db):
    session = await open_tracked(db)
    writer = BatchWriter(db)
    attendance = AttendanceRepository(db, AuditRepository(db), OutboxRepository(db), writer)
    presence = VoicePresenceRepository(db, writer)
    outcomes = await asyncio.gather(
        attendance.record_submission(answer(session.id, 5)),
        presence.join(session.id, 5, minutes(1)),
        presence.join(session.id, 6, minutes(1)),
        presence.leave(session.id, 6, minutes(2)),
    )
    assert outcomes[0].result is SubmissionResult.RECORDED
    assert (await attendance.get_record(session.id, 5)).status == "present"
    spans = [(i.user_id, i.joined_at, i.left_at) for i in await presence.list_intervals(session.id)]
    assert spans == [(5, minutes(1), None), (6, minutes(1), minutes(2))]


async def test_a_held_kind_waits_while_the_other_kind_commits(db):
    session = await open_tracked(db)
    writer = BatchWriter(db)
    attendance = AttendanceRepository(db, AuditRepository(db), OutboxRepository(db), writer)
    presence = VoicePresenceRepository(db, writer)
    async with attendance.hold_submissions():
        pending = asyncio.create_task(attendance.record_submission(answer(session.id, 5)))
        await asyncio.wait_for(presence.join(session.id, 6, minutes(1)), timeout=5)
        await asyncio.wait_for(presence.flush(), timeout=5)
        assert [i.user_id for i in await presence.list_intervals(session.id)] == [6]
        assert not pending.done()
        assert await attendance.get_record(session.id, 5) is None
    assert (await asyncio.wait_for(pending, timeout=5)).result is SubmissionResult.RECORDED


async def test_a_voice_row_the_database_refuses_fails_only_its_caller(db):
    session = await open_tracked(db)
    writer = BatchWriter(db)
    attendance = AttendanceRepository(db, AuditRepository(db), OutboxRepository(db), writer)
    presence = VoicePresenceRepository(db, writer)
    missing_session = session.id + 1000  # the foreign key refuses it
    outcomes = await asyncio.gather(
        attendance.record_submission(answer(session.id, 5)),
        presence.join(missing_session, 7, minutes(1)),
        presence.join(session.id, 6, minutes(1)),
        return_exceptions=True,
    )
    assert outcomes[0].result is SubmissionResult.RECORDED
    assert isinstance(outcomes[1], Exception)
    assert outcomes[2] is None
    assert [i.user_id for i in await presence.list_intervals(session.id)] == [6]
    assert await presence.list_intervals(missing_session) == []
    assert (await attendance.get_record(session.id, 5)).status == "present"


async def test_a_leave_and_rejoin_in_one_window_keep_the_member_inside(h, clock):
    """Written as a run of joins then a run of leaves, the rejoin would be a no-op (an interval
    is still open) and the leave would close it: the member would count as gone."""
    await configure(h)
    _, session = await open_voice(h)
    await h.voice_join("student", "lecture-voice")
    clock.advance(minutes=3)
    state, world = connection_state(h.bot), h.discord.world
    spec = world.user_named("student")
    set_voice_state(state, world, spec, None)
    set_voice_state(state, world, spec, "lecture-voice")
    await h.idle()
    await h.bot.voice_presence.flush()
    back = clock.now()
    assert await spans_of(h, session.id) == {"student": [(back - timedelta(minutes=3), back), (back, None)]}


async def test_the_close_waits_for_voice_events_still_in_the_group_commit(h, clock, discord_side):
    """Written after the close, a join would reopen an interval of a closed roll call."""
    await configure(h)
    _, session = await open_voice(h)
    state, world = connection_state(h.bot), h.discord.world
    close = h.command_payload("attendance close", user=h.member("admin"), channel=h.channel("admin"))
    clock.advance(minutes=5)
    async with h.bot.voice_presence.hold_events():
        set_voice_state(state, world, world.user_named("student"), "lecture-voice")
        closing = start(h, close)
        done, _ = await asyncio.wait(closing, timeout=HELD_SECONDS)
        assert not done, "the close went ahead of a voice event handed over before it"
    await finish(closing)
    assert "Closed" in reply_to(discord_side, close)
    intervals = await h.bot.voice_presence.list_intervals(session.id)
    assert [(i.joined_at, i.left_at) for i in intervals] == [(clock.now(), clock.now())]
