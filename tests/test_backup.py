"""`python main.py backup PATH`: an online, consistent copy of the SQLite database, safe while
the bot (or anything else) writes to it, refusing to overwrite a file unless told to."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage.attendance import AttendanceRepository
from storage.audit import AuditRepository
from storage.backup import BackupFailed, backup_sqlite_file
from storage.database import open_database
from storage.outbox import OutboxRepository
from tests.test_attendance import code_now, configure, here, open_session
from tests.test_settings import PROJECT_ROOT

SETTINGS = frozenset(
    {
        "DISCORD_BOT_TOKEN",
        "DATABASE_PATH",
        "DATABASE_URL",
        "LOG_LEVEL",
        "DEV_GUILD_ID",
        "LOG_FILE",
        "SHARD_COUNT",
        "SHARD_IDS",
    }
)
# Enough data that copying it takes a while, so the writer below really writes during the copy.
PADDING_ROWS = 400
PADDING_BYTES = 64 * 1024


def table_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608
    finally:
        connection.close()


class Writer(threading.Thread):
    """Another connection committing one row after another until told to stop."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.committed = 0
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            while not self.stop.is_set():
                connection.execute("INSERT INTO writes (n) VALUES (?)", (self.committed + 1,))
                self.committed += 1
                # Leave gaps for the bot's own writers: SQLite's busy handler is not a fair queue.
                self.stop.wait(0.001)
        except BaseException as error:
            self.failure = error
        finally:
            connection.close()


async def build_roll_call(h, clock) -> int:
    await configure(h)
    session = await open_session(h)
    for name in ("ana", "ben", "chloe"):
        h.add_member(name)
        result = await here(h, await code_now(h, session.id), user=name)
        assert "present" in result.text.lower(), result.text
    closed = await h.command("attendance close", user="admin", channel="admin")
    assert "Closed roll call" in closed.text
    return session.id


@pytest.mark.sqlite_only("the backup command copies the SQLite file; PostgreSQL is backed up with pg_dump")
async def test_backup_while_another_connection_writes_has_every_committed_row(h, clock, db_path, tmp_path):
    session_id = await build_roll_call(h, clock)
    padding = sqlite3.connect(db_path, isolation_level=None)
    padding.execute("CREATE TABLE writes (n INTEGER PRIMARY KEY)")
    padding.execute("CREATE TABLE padding (data BLOB)")
    padding.executemany("INSERT INTO padding (data) VALUES (randomblob(?))", [(PADDING_BYTES,)] * PADDING_ROWS)
    padding.close()
    target = tmp_path / "backup.db"
    writer = Writer(db_path)
    writer.start()
    try:
        while writer.committed < 50:
            await asyncio.sleep(0.001)
        committed_before = writer.committed
        counts_before = table_counts(db_path)
        # The bot writes too, through its own connections, while the copy is taken.
        bot_write = asyncio.create_task(
            h.command("config set", user="admin", channel="admin", timezone="Europe/Berlin")
        )
        size = await backup_sqlite_file(db_path, target)
        committed_after = writer.committed
        await bot_write
    finally:
        writer.stop.set()
        writer.join()
    assert writer.failure is None
    assert committed_after > committed_before, "the writer must have been writing during the backup"

    copy = sqlite3.connect(target)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    copied = [row[0] for row in copy.execute("SELECT n FROM writes ORDER BY n")]
    copy.close()
    # Every row committed before the backup started, and a consistent prefix of the rest.
    assert copied == list(range(1, len(copied) + 1))
    assert committed_before <= len(copied) <= committed_after
    counts = table_counts(target)
    for table, count in counts_before.items():
        if table != "writes":
            assert counts[table] >= count, table
    assert size == target.stat().st_size

    # The copy is a Rollcall database the bot can open: the roll call and its answers are there.
    database = await open_database(target)
    try:
        await database.migrate()
        audit = AuditRepository(database)
        sessions = AttendanceRepository(database, audit, OutboxRepository(database))
        records = await sessions.list_records(session_id)
        assert sorted(record.user_name for record in records) == ["ana", "ben", "chloe"]
    finally:
        await database.close()
    assert not list(tmp_path.glob(".backup.db.partial"))


def test_backup_command_writes_the_copy_and_says_so(tmp_path):
    database = tmp_path / "data" / "rollcall.db"
    database.parent.mkdir()
    connection = sqlite3.connect(database)
    connection.execute("CREATE TABLE kept (n INTEGER)")
    connection.execute("INSERT INTO kept VALUES (7)")
    connection.commit()
    connection.close()

    result = run_main_backup(tmp_path, "copy.db")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines() == [result.stdout.strip()]
    assert "Backed up data/rollcall.db to copy.db" in result.stdout and "integrity ok" in result.stdout
    assert sqlite3.connect(tmp_path / "copy.db").execute("SELECT n FROM kept").fetchall() == [(7,)]


def run_cli(tmp_path: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python main.py <arguments>` in `tmp_path` with only the given settings."""
    clean_env = {key: value for key, value in os.environ.items() if key not in SETTINGS}
    clean_env.update(env, PYTHONPATH=str(PROJECT_ROOT))
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "main.py"), *arguments],
        cwd=tmp_path,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_main_backup(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_cli(tmp_path, "backup", *arguments, DISCORD_BOT_TOKEN="abc.def.ghi", DATABASE_PATH="data/rollcall.db")


def test_backup_refuses_an_existing_file_without_force_and_changes_nothing(tmp_path):
    database = tmp_path / "data" / "rollcall.db"
    database.parent.mkdir()
    sqlite3.connect(database).execute("CREATE TABLE kept (n INTEGER)").connection.close()
    existing = tmp_path / "copy.db"
    existing.write_bytes(b"an older backup")

    refused = run_main_backup(tmp_path, "copy.db")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "rollcall: copy.db already exists: choose a new file name, or add --force to replace it."
    ]
    assert existing.read_bytes() == b"an older backup"

    forced = run_main_backup(tmp_path, "copy.db", "--force")
    assert forced.returncode == 0, forced.stderr
    assert sqlite3.connect(existing).execute("SELECT name FROM sqlite_master").fetchall() == [("kept",)]


def test_backup_of_a_missing_database_fails_with_one_line_and_writes_nothing(tmp_path):
    result = run_main_backup(tmp_path, "copy.db")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing to back up" in lines[0], result.stderr
    assert not (tmp_path / "copy.db").exists()
    assert not (tmp_path / "data" / "rollcall.db").exists()


def test_backup_into_a_directory_is_refused_with_one_line(tmp_path):
    (tmp_path / "backups").mkdir()
    result = run_main_backup(tmp_path, "backups")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "is a directory" in result.stderr


async def test_backup_of_a_file_that_is_not_a_database_fails_and_leaves_no_file(tmp_path):
    source = tmp_path / "notes.db"
    source.write_text("not a database at all, just some notes " * 200)
    with pytest.raises(BackupFailed) as failed:
        await backup_sqlite_file(source, tmp_path / "copy.db")
    assert "not a database" in str(failed.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.db"]
