"""The /here hot path under pressure: a close racing answers, another writer holding the
database, a row SQLite cannot store, a correction made before an answer, batch limits."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from storage.database import open_database
from storage.group_commit import MAX_BATCH_ROWS, BatchWriter, GroupCommitter
from tests.test_attendance import code_now, configure, open_session, parse_csv

TASK_TIMEOUT_SECONDS = 10.0
# The event loop must keep serving while another process holds the write lock; a turn that
# takes this long means it waited for SQLite.
LOOP_STALL_LIMIT_SECONDS = 0.1
LOCK_HELD_SECONDS = 0.2


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


def start(h, payload) -> set[asyncio.Task]:
    """Hand one interaction to discord.py without waiting for it; returns its command task."""
    before = asyncio.all_tasks()
    h.dispatch_nowait(payload)
    return {task for task in asyncio.all_tasks() - before if task.get_name().startswith("CommandTree-invoker")}


async def finish(tasks: set[asyncio.Task]) -> None:
    _, still = await asyncio.wait(tasks, timeout=TASK_TIMEOUT_SECONDS)
    assert not still, f"interaction tasks did not finish in {TASK_TIMEOUT_SECONDS} s"


def reply_to(discord_side, payload) -> str:
    interaction_id = int(payload["id"])
    own = [s for s in discord_side.sent if s.interaction_id == interaction_id and s.kind in ("response", "followup")]
    assert own, "the bot never answered"
    return own[-1].text


def answered(discord_side, payload) -> bool:
    return int(payload["id"]) in discord_side.responded


@contextmanager
def write_lock_held_elsewhere(db_path: Path) -> Iterator[None]:
    """Another process (a backup, the sqlite3 shell) holding SQLite's write lock."""
    other = sqlite3.connect(db_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
        other.execute("ROLLBACK")
    finally:
        other.close()


async def loop_turn_gaps(seconds: float) -> list[float]:
    """Let the loop run for `seconds`, recording how long each of its turns took."""
    loop = asyncio.get_running_loop()
    gaps = []
    started = last = loop.time()
    while last - started < seconds:
        await asyncio.sleep(0.002)
        now = loop.time()
        gaps.append(now - last)
        last = now
    return gaps


# ---- /here racing /attendance close ------------------------------------------------------------


@pytest.mark.parametrize("dispatched_first", ["here", "close"])
async def test_an_answer_pending_while_the_close_commits_is_refused_and_the_report_agrees(
    configured, discord_side, dispatched_first
):
    h = configured
    session = await open_session(h, expected_role=h.role("Student"))
    student = h.member("student")
    here = h.command_payload("here", user=student, channel=h.channel("attendance"), code=await code_now(h, session.id))
    close = h.command_payload("attendance close", user=h.member("admin"), channel=h.channel("admin"))

    # The answer is accepted against the open session, but its write waits in the group
    # commit until the close has committed.
    async with h.bot.attendance.hold_submissions():
        if dispatched_first == "here":
            here_task, close_task = start(h, here), start(h, close)
        else:
            close_task, here_task = start(h, close), start(h, here)
        await finish(close_task)
        assert not answered(discord_side, here), "the answer was acknowledged before it was written"
    await finish(here_task)

    told = reply_to(discord_side, here)
    assert f"Roll call #{session.id} has just closed; your answer was not recorded" in told
    assert "present" not in told
    assert (await h.bot.attendance.get_record(session.id, student.id)).status == "absent"
    assert "0 present · 0 late · 3 absent · 0 excused" in reply_to(discord_side, close)
    report = discord_side.channel_messages(h.channel("admin").id)[-1]
    assert "0 present · 0 late · 3 absent · 0 excused" in report.content
    rows = {row["user_id"]: row["status"] for row in parse_csv(report.files[0][1])}
    assert rows[str(student.id)] == "absent"


async def test_an_answer_committed_before_the_close_is_in_the_report(configured, discord_side):
    h = configured
    session = await open_session(h, expected_role=h.role("Student"))
    student = h.member("student")
    here = h.command_payload("here", user=student, channel=h.channel("attendance"), code=await code_now(h, session.id))
    close = h.command_payload("attendance close", user=h.member("admin"), channel=h.channel("admin"))

    await finish(start(h, here))
    await finish(start(h, close))

    assert "You're marked **present**" in reply_to(discord_side, here)
    assert (await h.bot.attendance.get_record(session.id, student.id)).status == "present"
    assert "1 present · 0 late · 2 absent · 0 excused" in reply_to(discord_side, close)
    report = discord_side.channel_messages(h.channel("admin").id)[-1]
    assert {row["user_id"]: row["status"] for row in parse_csv(report.files[0][1])}[str(student.id)] == "present"


# ---- a correction wins -------------------------------------------------------------------------


async def test_an_answer_after_an_organizers_correction_does_not_undo_it(configured, discord_side):
    h = configured
    session = await open_session(h)
    student = h.member("student")
    marked = await h.command("attendance mark", user="admin", channel="admin", member=student, status="excused")
    assert "now **excused**" in marked.text
    record_before = await h.bot.attendance.get_record(session.id, student.id)
    audit_before = await h.bot.audit.list(h.guild.id)

    result = await h.command("here", user=student, channel="attendance", code=await code_now(h, session.id))

    assert result.ephemeral
    assert f"An organizer set your status in roll call #{session.id} to **excused**" in result.text
    assert "present" not in result.text
    assert await h.bot.attendance.get_record(session.id, student.id) == record_before
    assert record_before.corrected_by == h.member("admin").id
    assert await h.bot.audit.list(h.guild.id) == audit_before


async def test_after_an_unmark_the_members_own_answer_counts_again(configured):
    h = configured
    session = await open_session(h)
    student = h.member("student")
    await h.command("attendance mark", user="admin", channel="admin", member=student, status="absent")
    await h.command("attendance unmark", user="admin", channel="admin", member=student)

    result = await h.command("here", user=student, channel="attendance", code=await code_now(h, session.id))

    assert "You're marked **present**" in result.text
    record = await h.bot.attendance.get_record(session.id, student.id)
    assert (record.status, record.corrected_by) == ("present", None)


# ---- another writer holding the database -------------------------------------------------------


@pytest.mark.sqlite_only("holds SQLite's file lock from a second sqlite3 connection")
async def test_another_process_holding_the_write_lock_does_not_freeze_the_bot(configured, discord_side, db_path):
    h = configured
    session = await open_session(h)
    student = h.member("student")
    here = h.command_payload("here", user=student, channel=h.channel("attendance"), code=await code_now(h, session.id))

    with write_lock_held_elsewhere(db_path):
        here_task = start(h, here)
        gaps = await loop_turn_gaps(LOCK_HELD_SECONDS)
        assert max(gaps) < LOOP_STALL_LIMIT_SECONDS, f"the event loop stalled for {max(gaps):.3f} s"
        assert not answered(discord_side, here), "answered before the answer could be written"
    await finish(here_task)

    assert "You're marked **present**" in reply_to(discord_side, here)
    assert (await h.bot.attendance.get_record(session.id, student.id)).status == "present"


@pytest.mark.sqlite_only("holds SQLite's file lock and shortens the SQLite backend's on-loop patience")
async def test_a_lock_held_too_long_gets_a_clear_try_again_and_records_nothing(configured, discord_side, db_path):
    h = configured
    session = await open_session(h)
    student = h.member("student")
    h.bot.db.loop_write_patience_seconds = 0.05
    here = h.command_payload("here", user=student, channel=h.channel("attendance"), code=await code_now(h, session.id))

    with write_lock_held_elsewhere(db_path):
        await finish(start(h, here))

    told = reply_to(discord_side, here)
    assert "database is busy right now, so your answer was not recorded" in told
    assert "Send `/here` again" in told
    assert await h.bot.attendance.get_record(session.id, student.id) is None
    again = await h.command("here", user=student, channel="attendance", code=await code_now(h, session.id))
    assert "You're marked **present**" in again.text


# ---- one row SQLite cannot store ----------------------------------------------------------------


async def test_a_row_sqlite_cannot_store_fails_only_its_own_answer(configured, discord_side, error_log):
    h = configured
    session = await open_session(h)
    code = await code_now(h, session.id)
    # Discord's JSON can carry a lone surrogate; sqlite3 refuses to bind it.
    broken = h.add_member("broken", roles=("Student",), display_name="bad\ud800name")
    classmates = [h.member("student"), h.member("student2"), h.member("student3")]
    payloads = {
        member.id: h.command_payload("here", user=member, channel=h.channel("attendance"), code=code)
        for member in [classmates[0], broken, *classmates[1:]]
    }

    with error_log.expect(1) as logged:
        async with h.bot.attendance.hold_submissions():
            tasks = set().union(*(start(h, payload) for payload in payloads.values()))
        await finish(tasks)

    assert "Sorry, something went wrong on my side" in reply_to(discord_side, payloads[broken.id])
    # sqlite3 raises it; asyncpg wraps it in a DataError.
    error = logged[0].exc_info[1]
    assert isinstance(error, UnicodeEncodeError) or isinstance(error.__cause__, UnicodeEncodeError)
    for member in classmates:
        assert "You're marked **present**" in reply_to(discord_side, payloads[member.id])
    records = {record.user_id: record.status for record in await h.bot.attendance.list_records(session.id)}
    assert records == {member.id: "present" for member in classmates}


# ---- the group committer's own limits -----------------------------------------------------------


async def test_a_batch_holds_at_most_500_rows_and_the_rest_wait_for_the_next(tmp_path):
    db = await open_database(tmp_path / "batches.db")
    batch_sizes: list[int] = []

    async def write(transaction, rows):
        batch_sizes.append(len(rows))
        return [row * 10 for row in rows]

    committer: GroupCommitter[int, int] = BatchWriter(db).committer(write, key=lambda row: row)
    try:
        async with committer.held():
            waiting = [asyncio.create_task(committer.submit(row)) for row in range(1200)]
            await asyncio.sleep(0)
        outcomes = await asyncio.gather(*waiting)
    finally:
        await db.close()
    assert MAX_BATCH_ROWS == 500
    assert batch_sizes == [500, 500, 200]
    assert outcomes == [row * 10 for row in range(1200)]


@pytest.mark.sqlite_only("fails the COMMIT of the on-loop batch with SQLite's deferred foreign keys")
async def test_a_failed_commit_is_rolled_back_and_the_connection_stays_usable(configured):
    h = configured
    session = await open_session(h)
    db = h.bot.db

    async def commit_fails(transaction):
        # A foreign key checked only at COMMIT: the statement succeeds, the COMMIT does not.
        await transaction.execute("PRAGMA defer_foreign_keys = ON")
        await transaction.execute(
            "INSERT INTO attendance_record (session_id, user_id, status, user_name, display_name) "
            "VALUES (?, 1, 'present', 'ghost', 'ghost')",
            (session.id + 1000,),
        )

    with pytest.raises(sqlite3.IntegrityError):
        await db.write_batch(commit_fails)

    assert (await db.fetch_one("SELECT COUNT(*) FROM attendance_record"))[0] == 0
    result = await h.command("here", user="student", channel="attendance", code=await code_now(h, session.id))
    assert "You're marked **present**" in result.text
    closed = await h.command("attendance close", user="admin", channel="admin")
    assert f"Closed roll call #{session.id}" in closed.text


# ---- how members type the code ------------------------------------------------------------------


def fullwidth(text: str) -> str:
    return "".join(chr(ord(character) + 0xFEE0) if "!" <= character <= "~" else character for character in text)


@pytest.mark.parametrize(
    "typed_as",
    [
        pytest.param(fullwidth, id="fullwidth IME letters"),
        pytest.param(lambda code: fullwidth(code.lower()), id="fullwidth lower case"),
        pytest.param(lambda code: "\u200b".join(code) + "\ufeff", id="zero-width spaces"),
        pytest.param(lambda code: f"`{code}`", id="copied backticks"),
        pytest.param(lambda code: f"/here {code}", id="pasted command"),
        pytest.param(lambda code: f"{code[:2]}–{code[2:]}", id="en dash"),
    ],
)
async def test_a_code_typed_through_an_ime_or_pasted_is_accepted(configured, typed_as):
    h = configured
    session = await open_session(h)
    typed = typed_as(await code_now(h, session.id))

    result = await h.command("here", user="student", channel="attendance", code=typed)

    assert "You're marked **present**" in result.text
    assert (await h.bot.attendance.get_record(session.id, h.member("student").id)).status == "present"
    assert await h.bot.attendance.count_failures(session.id) == {}


@pytest.mark.parametrize("typed", ["/here", "\u200b\u200b\u200b\u200b", "`````"])
async def test_only_invisible_or_pasted_leftovers_are_a_wrong_code(configured, typed):
    h = configured
    session = await open_session(h)

    result = await h.command("here", user="student", channel="attendance", code=typed)

    assert "That code is wrong" in result.text
    assert await h.bot.attendance.get_record(session.id, h.member("student").id) is None
    assert await h.bot.attendance.count_failures(session.id) == {h.member("student").id: 1}
