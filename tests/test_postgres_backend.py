"""The PostgreSQL backend: `?` placeholders, row counts, UniqueViolation, RETURNING id, instants,
migrations under an advisory lock, DATABASE_URL at start-up, and a bot restarted on PostgreSQL.

Tests marked `postgres_only` run on the embedded server with `--backend postgres` (`make test`
runs them); the others need no server and run on both passes.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest

from bot import create_bot
from config import ConfigError, Settings
from storage.attendance import AttendanceRepository, SessionAlreadyOpen, Submission, SubmissionResult
from storage.audit import AuditRepository
from storage.backend import Database
from storage.database import DatabaseBusy, UniqueViolation, open_database
from storage.events import EventRepository
from storage.migrations import load_migrations
from storage.outbox import OutboxRepository
from storage.postgres import PostgresDatabase
from storage.postgres.placeholders import translate
from tests.postgres_server import EmbeddedPostgres
from tests.test_attendance import code_now, configure, open_session

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "cogs", "storage", "utils", "main.py", "config.py")
POSTGRES_BACKEND = PROJECT_ROOT / "storage" / "postgres"
OPENED_AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
on_postgres = pytest.mark.postgres_only


def attendance_of(db: Database) -> AttendanceRepository:
    return AttendanceRepository(db, AuditRepository(db), OutboxRepository(db))


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
    return (await attendance.open_session(**values)).id  # type: ignore[arg-type]


@pytest.fixture
async def empty_database_url(postgres: EmbeddedPostgres | None) -> AsyncIterator[str]:
    """A database of its own with no table at all (the shared one is migrated)."""
    assert postgres is not None
    url = await postgres.create_database(migrated=False)
    try:
        yield url
    finally:
        await postgres.drop_database(url)


# ---- placeholders ------------------------------------------------------------------------------


def test_placeholders_are_numbered_in_order():
    translated = translate("UPDATE t SET a = ?, b = ? WHERE id = ? AND c IN (?, ?)")
    assert translated.sql == "UPDATE t SET a = $1, b = $2 WHERE id = $3 AND c IN ($4, $5)"
    assert translated.placeholders == 5


def test_a_question_mark_in_a_literal_identifier_or_comment_is_not_a_placeholder():
    sql = (
        "SELECT '?', 'it''s ?', E'\\' ?', \"odd?name\", $tag$ ? $tag$, $$?$$ FROM t -- why?\n"
        "/* maybe? */ WHERE a = ? AND b LIKE ? ESCAPE '\\'"
    )
    assert translate(sql).sql == (
        "SELECT '?', 'it''s ?', E'\\' ?', \"odd?name\", $tag$ ? $tag$, $$?$$ FROM t -- why?\n"
        "/* maybe? */ WHERE a = $1 AND b LIKE $2 ESCAPE '\\'"
    )


def test_a_quote_left_open_is_refused_rather_than_half_translated():
    with pytest.raises(ValueError, match="unterminated"):
        translate("SELECT 'open ? FROM t WHERE a = ?")


def test_each_sql_string_is_translated_once():
    sql = "SELECT value FROM bot_meta WHERE key = ? AND value <> ?"
    assert translate(sql) is translate(sql)


def test_a_returning_clause_is_seen_only_outside_literals():
    assert translate("DELETE FROM t WHERE id = ? RETURNING status").returns_rows
    assert not translate("INSERT INTO t (note) VALUES ('returning')").returns_rows


# ---- only the PostgreSQL backend imports its driver; its migrations follow the written rules ----


def test_no_module_outside_the_postgres_backend_imports_asyncpg():
    offenders = []
    for name in SCANNED:
        path = PROJECT_ROOT / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if POSTGRES_BACKEND in file.parents:
                continue
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                if any(name.split(".")[0] == "asyncpg" for name in names):
                    offenders.append(str(file.relative_to(PROJECT_ROOT)))
    assert offenders == []


def translate_migration(script: str) -> str:
    """The rules of storage/migrations/__init__.py, applied mechanically."""
    script = re.sub(r"\bid INTEGER PRIMARY KEY\b", "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", script)
    script = re.sub(r"\bINTEGER\b", "BIGINT", script)
    script = re.sub(r"\b(\w+_at|\w+_since|\w+_until) TEXT\b", r"\1 TIMESTAMPTZ", script)
    return re.sub(r"\bBLOB\b", "BYTEA", script)


def test_every_sqlite_migration_has_its_postgres_translation_by_the_written_rules():
    sqlite = load_migrations("sqlite")
    postgres = load_migrations("postgres")
    assert [name for _, name, _ in postgres] == [name for _, name, _ in sqlite]
    for (_, name, original), (_, _, translated) in zip(sqlite, postgres, strict=True):
        header, body = translated.split("\n", 1)
        assert header == f"-- PostgreSQL translation of sqlite/{name}, by the rules in storage/migrations/__init__.py."
        assert body == translate_migration(original), name


# ---- settings and start-up ----------------------------------------------------------------------


def test_database_url_selects_postgres_and_its_password_never_shows():
    settings = Settings.from_mapping(
        {"DISCORD_BOT_TOKEN": "t", "DATABASE_URL": "postgresql://rollcall:hunter2@db:5432/rollcall"}
    )
    assert settings.database_url == "postgresql://rollcall:hunter2@db:5432/rollcall"
    assert "hunter2" not in repr(settings)
    assert "postgresql://rollcall:***@db:5432/rollcall" in repr(settings)
    assert Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "DATABASE_URL": " "}).database_url is None


@pytest.mark.parametrize(
    "url", ["mysql://u:hunter2@db/rollcall", "postgresql://u:hunter2@db:port/rollcall", "postgresql:///rollcall"]
)
def test_a_malformed_database_url_is_refused_naming_it_without_the_password(url):
    with pytest.raises(ConfigError) as raised:
        Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "DATABASE_URL": url})
    message = str(raised.value)
    assert message.startswith("DATABASE_URL=") and "hunter2" not in message and "\n" not in message


def run_main(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    keys = {"DISCORD_BOT_TOKEN", "DATABASE_PATH", "DATABASE_URL", "LOG_LEVEL", "LOG_FILE", "DEV_GUILD_ID"}
    clean_env = {key: value for key, value in os.environ.items() if key not in keys}
    clean_env.update(env, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py")],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_malformed_database_url_exits_2_with_one_line(tmp_path):
    result = run_main(tmp_path, DISCORD_BOT_TOKEN="a.b.c", DATABASE_URL="postgresql://u:hunter2@db:port/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL=" in lines[0] and "hunter2" not in lines[0], lines


def test_an_unreachable_server_at_start_up_exits_2_with_one_line_and_no_sqlite_file(tmp_path):
    # Port 1 on the loopback: nothing listens, the connection is refused at once.
    result = run_main(tmp_path, DISCORD_BOT_TOKEN="a.b.c", DATABASE_URL="postgresql://u:hunter2@127.0.0.1:1/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "DATABASE_URL='postgresql://u:***@127.0.0.1:1/x' cannot be reached" in lines[0]
    assert "hunter2" not in result.stderr
    assert not (tmp_path / "data").exists()


# ---- rows affected -----------------------------------------------------------------------------


@on_postgres
async def test_execute_returns_the_rows_each_statement_changed(db):
    assert await db.execute("INSERT INTO bot_meta (key, value) VALUES (?, ?)", ("a", "1")) == 1
    async with db.transaction() as transaction:
        assert (
            await transaction.execute_many(
                "INSERT INTO bot_meta (key, value) VALUES (?, ?)", [("b", "1"), ("c", "2"), ("d", "1")]
            )
            == 3
        )
        assert await transaction.execute("UPDATE bot_meta SET value = ? WHERE value = ?", ("9", "1")) == 3
        assert await transaction.execute("UPDATE bot_meta SET value = ? WHERE key = ?", ("9", "none")) == 0
    assert await db.execute("DELETE FROM bot_meta WHERE value = ?", ("9",)) == 3
    assert await db.fetch_value("SELECT count(*) FROM bot_meta") == 1


@on_postgres
async def test_execute_many_counts_only_the_rows_an_upsert_wrote(db):
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('kept', 'old')")
    upsert = (
        "INSERT INTO bot_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value "
        "WHERE bot_meta.value <> 'old'"
    )

    async def write(transaction):
        skipped = await transaction.execute_many(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", [("kept", "x"), ("n", "y")]
        )
        return skipped, await transaction.execute_many(upsert, [("kept", "new"), ("n", "z"), ("m", "w")])

    assert await db.write_batch(write) == (1, 2)
    values = {row["key"]: row["value"] for row in await db.fetch_all("SELECT key, value FROM bot_meta")}
    assert values == {"kept": "old", "n": "z", "m": "w"}


# ---- UniqueViolation and busy ------------------------------------------------------------------


@on_postgres
async def test_a_duplicate_key_raises_unique_violation_everywhere_and_writes_nothing(db):
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'first')")
    with pytest.raises(UniqueViolation) as raised:
        await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'second')")
    assert isinstance(raised.value.__cause__, asyncpg.UniqueViolationError)

    async def write_twice(transaction) -> None:
        await transaction.execute("INSERT INTO bot_meta (key, value) VALUES ('j', 'one')")
        await transaction.execute("INSERT INTO bot_meta (key, value) VALUES ('j', 'two')")

    with pytest.raises(UniqueViolation):
        await db.write_batch(write_twice)
    with pytest.raises(UniqueViolation):
        async with db.transaction() as transaction:
            await transaction.execute_many("INSERT INTO bot_meta (key, value) VALUES (?, ?)", [("i", "1"), ("i", "2")])

    assert [tuple(row) for row in await db.fetch_all("SELECT key, value FROM bot_meta")] == [("k", "first")]


@on_postgres
async def test_a_second_open_roll_call_in_a_channel_is_already_open_and_a_check_failure_is_not(db):
    attendance = attendance_of(db)
    first = await open_in(attendance, channel_id=10)

    with pytest.raises(SessionAlreadyOpen):
        await open_in(attendance, channel_id=10)
    with pytest.raises(asyncpg.CheckViolationError):
        await open_in(attendance, channel_id=11, interval_seconds=1)

    assert [session.id for session in await attendance.list_open()] == [first]


@on_postgres
async def test_a_row_lock_held_past_the_timeout_is_database_busy_and_nothing_is_written(db, monkeypatch):
    await db.execute("INSERT INTO bot_meta (key, value) VALUES ('k', 'v')")
    other = await asyncpg.connect(db.url)
    try:
        holding = other.transaction()
        await holding.start()
        await other.execute("UPDATE bot_meta SET value = 'other' WHERE key = 'k'")
        with pytest.raises(DatabaseBusy):
            async with db.transaction() as transaction:
                await transaction.execute("SET LOCAL lock_timeout = 50")
                await transaction.execute("UPDATE bot_meta SET value = 'mine' WHERE key = 'k'")
        await holding.rollback()
    finally:
        await other.close()
    assert await db.fetch_value("SELECT value FROM bot_meta WHERE key = 'k'") == "v"


# ---- RETURNING id and instants -----------------------------------------------------------------


@on_postgres
async def test_inserted_rows_return_their_generated_ids_in_both_kinds_of_transaction(db):
    attendance = attendance_of(db)
    sessions = [await open_in(attendance, channel_id=channel) for channel in (10, 11)]

    async def insert(transaction) -> int:
        return await transaction.fetch_value(
            "INSERT INTO audit_log (guild_id, actor_id, action, subject, created_at) VALUES (1, 2, 'b', 's', ?) "
            "RETURNING id",
            (OPENED_AT,),
        )

    assert sessions == [1, 2]
    assert await db.write_batch(insert) == 1
    assert [(await attendance.get(session_id)).channel_id for session_id in sessions] == [10, 11]


@on_postgres
async def test_an_aware_time_in_any_zone_is_stored_as_timestamptz_and_read_back_in_utc(db):
    attendance = attendance_of(db)
    in_paris = OPENED_AT.astimezone(timezone(timedelta(hours=2)))
    session_id = await open_in(attendance, channel_id=10, opened_at=in_paris, closes_at=in_paris + timedelta(hours=1))
    answered_at = OPENED_AT + timedelta(seconds=4, microseconds=250_000)
    await attendance.record_submission(Submission(session_id, 5, "present", answered_at, "ana", "Ana"))

    session = await attendance.get(session_id)
    record = await attendance.get_record(session_id, 5)

    assert session.opened_at == OPENED_AT and session.opened_at.tzinfo is UTC
    assert session.closes_at == OPENED_AT + timedelta(hours=1) and session.closes_at.tzinfo is UTC
    assert record.submitted_at == answered_at and record.submitted_at.tzinfo is UTC
    stored_type = await db.fetch_value("SELECT pg_typeof(opened_at)::text FROM attendance_session WHERE id = ?", (1,))
    assert stored_type == "timestamp with time zone"
    in_new_york = session.closes_at.astimezone(timezone(timedelta(hours=-4)))
    assert await attendance.list_due_to_close(in_new_york - timedelta(microseconds=1)) == []
    assert [due.id for due in await attendance.list_due_to_close(in_new_york)] == [session_id]


@on_postgres
async def test_a_naive_time_is_refused_and_nothing_is_written(db):
    with pytest.raises(ValueError, match="naive"):
        await open_in(attendance_of(db), channel_id=10, opened_at=datetime(2024, 5, 1, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        await db.execute("UPDATE attendance_session SET closes_at = ?", (datetime(2024, 5, 1, 9, 0),))
    assert await db.fetch_value("SELECT count(*) FROM attendance_session") == 0


# ---- a roll call's close and a pending answer --------------------------------------------------


@on_postgres
async def test_an_answer_waits_for_a_close_being_committed_elsewhere_and_is_then_refused(db):
    attendance = attendance_of(db)
    session_id = await open_in(attendance, channel_id=10)
    other = await asyncpg.connect(db.url)
    try:
        closing = other.transaction()
        await closing.start()
        await other.execute("UPDATE attendance_session SET status = 'closed' WHERE id = $1", session_id)

        answer = asyncio.create_task(
            attendance.record_submission(Submission(session_id, 5, "present", OPENED_AT, "ana", "Ana"))
        )
        await asyncio.sleep(0.2)
        # A plain SELECT would have read the committed 'open' and stored the answer by now.
        assert not answer.done()
        await closing.commit()
        outcome = await answer
    finally:
        await other.close()

    assert outcome.result is SubmissionResult.SESSION_CLOSED
    assert await attendance.get_record(session_id, 5) is None


# ---- events ------------------------------------------------------------------------------------


async def test_leaving_an_event_without_a_capacity_promotes_no_one_and_is_saved(db):
    events = EventRepository(db, AuditRepository(db))
    event = await events.create(
        guild_id=1,
        channel_id=10,
        created_by=99,
        now=OPENED_AT,
        title="Open house",
        description="",
        location="",
        starts_at=OPENED_AT + timedelta(days=1),
        ends_at=OPENED_AT + timedelta(days=1, hours=1),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    await events.set_rsvp(event.id, 1, "going", now=OPENED_AT)

    change = await events.set_rsvp(event.id, 1, "not_going", now=OPENED_AT)

    assert (change.before, change.after, change.promoted) == ("going", "not_going", ())
    assert (await events.get_rsvp(event.id, 1)).status == "not_going"


# ---- migrations ----------------------------------------------------------------------------------


@on_postgres
async def test_two_processes_migrating_at_once_apply_each_migration_once(empty_database_url, caplog):
    first = await PostgresDatabase.open(empty_database_url)
    second = await PostgresDatabase.open(empty_database_url)
    latest = len(load_migrations("postgres"))
    caplog.set_level(logging.INFO, logger="storage.postgres.backend")
    try:
        versions = await asyncio.gather(first.migrate(), second.migrate())
        recorded = await first.fetch_all("SELECT version, name FROM schema_migrations ORDER BY version")
    finally:
        await first.close()
        await second.close()

    assert versions == [latest, latest]
    assert [tuple(row) for row in recorded] == [(version, name) for version, name, _ in load_migrations("postgres")]
    applied = [record.getMessage() for record in caplog.records if record.getMessage().startswith("Applying")]
    assert len(applied) == latest


@on_postgres
async def test_a_bot_on_an_empty_database_migrates_it_and_a_second_start_changes_nothing(empty_database_url):
    settings = Settings(token="a.good.token", database_url=empty_database_url)
    for _ in range(2):
        bot = create_bot(settings)
        await bot.open_storage()
        assert await bot.db.schema_version() == len(load_migrations("postgres"))
        assert await bot.db.fetch_value("SELECT count(*) FROM schema_migrations") == len(load_migrations("postgres"))
        await bot.close()


@on_postgres
async def test_a_database_whose_schema_clashes_is_refused_naming_database_url(empty_database_url):
    other = await asyncpg.connect(empty_database_url)
    try:
        await other.execute("CREATE TABLE guild_config (something_else TEXT)")
    finally:
        await other.close()

    bot = create_bot(Settings(token="a.good.token", database_url=empty_database_url))
    with pytest.raises(ConfigError, match=r"^DATABASE_URL=.* is not a Rollcall database") as raised:
        await bot.open_storage()
    assert "\n" not in str(raised.value)
    assert not hasattr(bot, "db")
    await bot.close()
    database = await open_database(empty_database_url)
    try:
        assert await database.schema_version() == 0
    finally:
        await database.close()


# ---- a bot restarted on PostgreSQL ---------------------------------------------------------------


@on_postgres
async def test_a_bot_restarted_on_the_same_postgres_database_keeps_every_answer(running, restart, settings):
    assert settings.database_url is not None
    h = running.harness
    await configure(h)
    session = await open_session(h)
    answered = await h.command("here", user="student", channel="attendance", code=await code_now(h, session.id))
    assert "You're marked **present**" in answered.text

    h = await restart()

    assert isinstance(h.bot.db, PostgresDatabase)
    records = await h.bot.attendance.list_records(session.id)
    assert [(record.user_id, record.status) for record in records] == [(h.member("student").id, "present")]
    closed = await h.command("attendance close", user="admin", channel="admin")
    assert f"Closed roll call #{session.id}" in closed.text
