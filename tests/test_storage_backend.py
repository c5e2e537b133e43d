"""The storage seam: only the SQLite backend knows its driver; repositories see portable SQL,
`UniqueViolation`, `RETURNING id`, aware UTC datetimes, and existing database files keep working."""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import create_bot
from config import ConfigError, Settings
from storage.attendance import AttendanceRepository, SessionAlreadyOpen, Submission, SubmissionResult
from storage.audit import AuditRepository
from storage.backend import Database
from storage.database import MigrationFailed, UniqueViolation, open_database
from storage.migrations import load_migrations
from storage.outbox import NewOwed, OutboxRepository

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DRIVERS = frozenset({"sqlite3", "aiosqlite"})
SQLITE_BACKEND = PROJECT_ROOT / "storage" / "sqlite"
SCANNED = ("bot", "cogs", "storage", "utils", "main.py", "config.py")
MIGRATIONS_AS_SHIPPED = PROJECT_ROOT / "storage" / "migrations" / "sqlite"
SHIPPED_VERSION = 3
OPENED_AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
# What every database written before the backend seam holds in its time columns.
OPENED_AT_AS_STORED = "2024-05-01T09:00:00.000000+00:00"


def driver_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & DRIVERS


def python_files(*names: str) -> list[Path]:
    files: list[Path] = []
    for name in names:
        path = PROJECT_ROOT / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "backend.db")
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


def attendance_of(db: Database) -> AttendanceRepository:
    audit = AuditRepository(db)
    return AttendanceRepository(db, audit, OutboxRepository(db))


async def open_in(attendance: AttendanceRepository, channel_id: int, **overrides: object) -> int:
    values: dict[str, object] = dict(
        guild_id=1,
        channel_id=channel_id,
        opened_by=2,
        opened_at=OPENED_AT,
        closes_at=None,
        secret=b"s" * 16,
        interval_seconds=15,
        code_length=4,
        grace_seconds=3,
        late_after_minutes=10,
        expected_role_id=None,
    )
    values.update(overrides)
    session = await attendance.open_session(**values)  # type: ignore[arg-type]
    return session.id


def build_database_as_shipped(path: Path) -> None:
    """A database file as the bot left it before the seam: the three migrations, their version
    in `user_version`, a roll call and an answer written with that time format."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for script in sorted(MIGRATIONS_AS_SHIPPED.glob("*.sql"))[:SHIPPED_VERSION]:
            connection.executescript(script.read_text(encoding="utf-8"))
        connection.execute(f"PRAGMA user_version = {SHIPPED_VERSION}")
        connection.execute(
            "INSERT INTO attendance_session (id, guild_id, channel_id, opened_by, opened_at, secret, interval_seconds, "
            "code_length, grace_seconds, late_after_minutes) VALUES (7, 1, 10, 2, ?, x'00', 15, 4, 3, 10)",
            (OPENED_AT_AS_STORED,),
        )
        connection.execute(
            "INSERT INTO attendance_record (session_id, user_id, status, submitted_at, user_name, display_name) "
            "VALUES (7, 5, 'present', '2024-05-01T09:00:04.250000+00:00', 'ana', 'Ana')"
        )
    finally:
        connection.close()


# ---- only the SQLite backend imports its driver ------------------------------------------------


def test_no_module_outside_the_sqlite_backend_imports_sqlite3_or_aiosqlite():
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported)
        for path in python_files(*SCANNED)
        if SQLITE_BACKEND not in path.parents and (imported := driver_imports(path))
    }
    assert offenders == {}


def test_the_driver_scan_sees_the_sqlite_backends_own_imports():
    assert set().union(*(driver_imports(path) for path in python_files("storage/sqlite"))) == DRIVERS


# ---- UniqueViolation ---------------------------------------------------------------------------


async def test_a_duplicate_key_raises_unique_violation_and_writes_nothing(db):
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'first')")

    with pytest.raises(UniqueViolation) as raised:
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'second')")

    assert not isinstance(raised.value, sqlite3.Error)
    assert await db.fetch_value("SELECT value FROM bot_meta WHERE key = 'k'") == "first"


async def test_a_duplicate_integer_primary_key_raises_unique_violation_in_a_transaction(db):
    owed_id = await OutboxRepository(db).create(NewOwed("notice", 1), now=OPENED_AT)

    with pytest.raises(UniqueViolation):
        async with db.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO outbox (id, kind, due_at, created_at) VALUES (?, 'notice', ?, ?)",
                (owed_id, OPENED_AT, OPENED_AT),
            )

    assert await db.fetch_value("SELECT COUNT(*) FROM outbox") == 1


async def test_a_duplicate_key_in_the_batch_write_raises_unique_violation_and_rolls_back(db):
    async def write_twice(transaction) -> None:
        await transaction.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'one')")
        await transaction.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'two')")

    with pytest.raises(UniqueViolation):
        await db.write_batch(write_twice)

    assert await db.fetch_value("SELECT COUNT(*) FROM bot_meta") == 0


async def test_a_check_failure_is_not_a_unique_violation(db):
    with pytest.raises(sqlite3.IntegrityError) as raised:
        await db.execute("INSERT INTO guild_config (guild_id, code_length) VALUES (1, 99)")

    assert not isinstance(raised.value, UniqueViolation)


async def test_a_second_open_roll_call_in_a_channel_is_refused_and_not_stored(db):
    attendance = attendance_of(db)
    first = await open_in(attendance, channel_id=10)

    with pytest.raises(SessionAlreadyOpen) as raised:
        await open_in(attendance, channel_id=10)

    assert isinstance(raised.value.__cause__, UniqueViolation)
    assert [session.id for session in await attendance.list_open()] == [first]


async def test_a_roll_call_the_schema_refuses_for_another_reason_is_not_called_already_open(db):
    attendance = attendance_of(db)

    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        await open_in(attendance, channel_id=10, interval_seconds=1)

    assert await attendance.list_open() == []


# ---- RETURNING id ------------------------------------------------------------------------------


async def test_opened_roll_calls_and_owed_messages_get_the_ids_of_their_rows(db):
    attendance = attendance_of(db)
    outbox = OutboxRepository(db)
    await db.execute("INSERT INTO outbox (id, kind, due_at, created_at) VALUES (40, 'notice', ?, ?)", (OPENED_AT,) * 2)

    sessions = [await open_in(attendance, channel_id=channel) for channel in (10, 11)]
    owed = await outbox.create(NewOwed("notice", 1, subject_id=sessions[1]), now=OPENED_AT)

    assert sessions == [1, 2]
    assert [(await attendance.get(session_id)).channel_id for session_id in sessions] == [10, 11]
    assert owed == 41
    assert (await outbox.get(owed)).subject_id == sessions[1]


async def test_insert_returning_id_works_in_both_kinds_of_transaction(db):
    async with db.transaction() as transaction:
        in_transaction = await transaction.fetch_value(
            "INSERT INTO audit_log (guild_id, actor_id, action, subject, created_at) VALUES (1, 2, 'a', 's', ?) "
            "RETURNING id",
            (OPENED_AT,),
        )

    async def insert(transaction) -> int:
        return await transaction.fetch_value(
            "INSERT INTO audit_log (guild_id, actor_id, action, subject, created_at) VALUES (1, 2, 'b', 's', ?) "
            "RETURNING id",
            (OPENED_AT,),
        )

    in_batch = await db.write_batch(insert)

    assert (in_transaction, in_batch) == (1, 2)
    assert [row["action"] for row in await db.fetch_all("SELECT action FROM audit_log ORDER BY id")] == ["a", "b"]


# ---- time ----------------------------------------------------------------------------------------


async def test_an_aware_time_in_any_zone_reads_back_as_the_same_instant_in_utc(db):
    attendance = attendance_of(db)
    in_paris = OPENED_AT.astimezone(timezone(timedelta(hours=2)))

    session_id = await open_in(attendance, channel_id=10, opened_at=in_paris, closes_at=in_paris + timedelta(hours=1))
    session = await attendance.get(session_id)

    assert session.opened_at == OPENED_AT and session.opened_at.tzinfo is UTC
    assert session.closes_at == OPENED_AT + timedelta(hours=1) and session.closes_at.tzinfo is UTC
    assert session.closed_at is None
    stored = await db.fetch_value("SELECT opened_at FROM attendance_session WHERE id = ?", (session_id,))
    assert stored == OPENED_AT_AS_STORED


async def test_times_written_in_a_batch_are_stored_in_the_same_format(db):
    attendance = attendance_of(db)
    session_id = await open_in(attendance, channel_id=10)
    answered_at = OPENED_AT + timedelta(seconds=4, microseconds=250_000)

    outcome = await attendance.record_submission(Submission(session_id, 5, "present", answered_at, "ana", "Ana"))

    assert outcome.result is SubmissionResult.RECORDED
    record = await attendance.get_record(session_id, 5)
    assert record.submitted_at == answered_at and record.submitted_at.tzinfo is UTC
    stored = await db.fetch_value("SELECT submitted_at FROM attendance_record WHERE session_id = ?", (session_id,))
    assert stored == "2024-05-01T09:00:04.250000+00:00"


async def test_a_naive_time_is_refused_and_nothing_is_written(db):
    attendance = attendance_of(db)

    with pytest.raises(ValueError, match="naive"):
        await open_in(attendance, channel_id=10, opened_at=datetime(2024, 5, 1, 9, 0))

    assert await db.fetch_value("SELECT COUNT(*) FROM attendance_session") == 0


async def test_a_stored_time_without_an_offset_is_never_read_back_naive(db):
    attendance = attendance_of(db)
    session_id = await open_in(attendance, channel_id=10)
    await db.execute("UPDATE attendance_session SET closes_at = '2024-05-01T10:00:00' WHERE id = ?", (session_id,))

    with pytest.raises(ValueError, match="no UTC offset"):
        await attendance.get(session_id)


async def test_due_times_compare_as_instants_across_zones(db):
    attendance = attendance_of(db)
    closes_at = OPENED_AT + timedelta(minutes=30)
    session_id = await open_in(attendance, channel_id=10, closes_at=closes_at)
    in_new_york = timezone(timedelta(hours=-4))

    just_before = await attendance.list_due_to_close((closes_at - timedelta(microseconds=1)).astimezone(in_new_york))
    at_the_time = await attendance.list_due_to_close(closes_at.astimezone(in_new_york))

    assert just_before == []
    assert [session.id for session in at_the_time] == [session_id]


# ---- ordering ----------------------------------------------------------------------------------


async def test_records_are_listed_by_display_name_ignoring_case(db):
    attendance = attendance_of(db)
    session_id = await open_in(attendance, channel_id=10)
    for user_id, display_name in enumerate(("carol", "Bob", "alice", "Dave", "bob"), start=1):
        await attendance.record_submission(
            Submission(session_id, user_id, "present", OPENED_AT, display_name.lower(), display_name)
        )

    records = await attendance.list_records(session_id)

    # Equal names keep the member id order.
    assert [(record.display_name, record.user_id) for record in records] == [
        ("alice", 3),
        ("Bob", 2),
        ("bob", 5),
        ("carol", 1),
        ("Dave", 4),
    ]


# ---- an existing database file ---------------------------------------------------------------


async def test_a_database_built_before_the_seam_opens_unchanged_and_is_not_migrated_again(tmp_path):
    path = tmp_path / "shipped.db"
    build_database_as_shipped(path)
    schema_before = sqlite3.connect(path).execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()

    db = await open_database(path)
    try:
        latest = len(load_migrations("sqlite"))
        assert await db.migrate() == latest
        assert await db.schema_version() == latest
        schema_after = {tuple(row) for row in await db.fetch_all("SELECT type, name, sql FROM sqlite_master")}
        # The shipped migrations did not run again: what they built is untouched, apart from
        # the columns later migrations add to roll calls and to the guild settings.
        altered = ("attendance_session", "guild_config")
        assert {entry for entry in schema_before if entry[1] not in altered} <= schema_after
        attendance = attendance_of(db)
        session = await attendance.get(7)
        assert session.opened_at == OPENED_AT and session.opened_at.tzinfo is UTC
        record = await attendance.get_record(7, 5)
        assert record.submitted_at == datetime(2024, 5, 1, 9, 0, 4, 250_000, tzinfo=UTC)
        await attendance.record_submission(Submission(7, 6, "late", OPENED_AT + timedelta(minutes=11), "bo", "Bo"))
    finally:
        await db.close()

    rows = sqlite3.connect(path).execute("SELECT user_id, submitted_at FROM attendance_record ORDER BY user_id")
    assert rows.fetchall() == [(5, "2024-05-01T09:00:04.250000+00:00"), (6, "2024-05-01T09:11:00.000000+00:00")]


async def test_a_database_whose_schema_clashes_is_refused_with_the_setting_to_fix(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE guild_config (something_else TEXT)")
    connection.close()

    db = await open_database(path)
    try:
        with pytest.raises(MigrationFailed):
            await db.migrate()
        assert await db.schema_version() == 0
    finally:
        await db.close()

    bot = create_bot(Settings(token="a.good.token", database_path=path))
    with pytest.raises(ConfigError, match="is not a Rollcall database"):
        await bot.open_storage()
    assert not hasattr(bot, "db")
    await bot.close()
