"""`python main.py migrate-to-postgres`: an SQLite database built by the bot, copied into an
empty PostgreSQL database (the embedded server), read back by a bot on PostgreSQL with the same
ids; new rows get fresh ids; a database that is not empty is refused with one line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from config import Settings
from storage.copy import CopyRefused, copy_sqlite_to_postgres
from storage.database import open_database
from storage.outbox import NewOwed
from tests.harness import boot_bot, shutdown_bot
from tests.test_attendance import code_now, configure, here, open_session
from tests.test_backup import run_cli

pytestmark = pytest.mark.postgres_only


async def build_on_sqlite(path: Path, discord_side, world, clock) -> dict[str, object]:
    """A roll call with answers, a config change (audited) and its close report, made by a bot on SQLite."""
    _, h = await boot_bot(Settings(token="test-token", database_path=path), discord_side, world, clock)
    try:
        await configure(h, timezone="Europe/Berlin")
        first = await open_session(h)
        for name in ("ana", "ben"):
            h.add_member(name)
            assert "present" in (await here(h, await code_now(h, first.id), user=name)).text.lower()
        closed = await h.command("attendance close", user="admin", channel="admin")
        assert "Closed roll call" in closed.text
        # A gap in the ids, as deleting rows leaves: the copy keeps ids, not positions.
        second = await open_session(h)
        await h.bot.attendance.discard(second.id)
        third = await open_session(h)
        return {
            "guild_id": h.guild.id,
            "closed_id": first.id,
            "open_id": third.id,
            "records": [(r.user_id, r.status) for r in await h.bot.attendance.list_records(first.id)],
            "outbox": [
                (o.id, o.status) for o in await h.bot.outbox.list_for_subject("attendance.close_report", first.id)
            ],
        }
    finally:
        await shutdown_bot(h.bot)


async def migrate(tmp_path: Path, sqlite_path: Path, url: str):
    env = {"DISCORD_BOT_TOKEN": "abc.def.ghi", "DATABASE_PATH": str(sqlite_path), "DATABASE_URL": url}
    return await asyncio.to_thread(run_cli, tmp_path, "migrate-to-postgres", **env)


async def test_the_copy_round_trip_keeps_every_row_and_id(
    tmp_path, postgres_server, discord_side, world, clock, error_log
):
    sqlite_path = tmp_path / "rollcall.db"
    built = await build_on_sqlite(sqlite_path, discord_side, world, clock)
    assert built["outbox"], "the close report is owed in the outbox"
    url = await postgres_server.create_database(migrated=False)

    result = await migrate(tmp_path, sqlite_path, url)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert "attendance_record: 2 rows in SQLite, 2 in PostgreSQL" in lines
    assert "attendance_session: 2 rows in SQLite, 2 in PostgreSQL" in lines
    assert lines[-1].startswith("Copied ") and "every row count matches" in lines[-1]
    assert "abc.def.ghi" not in result.stdout + result.stderr

    _, h = await boot_bot(
        Settings(token="test-token", database_path=tmp_path / "unused.db", database_url=url), discord_side, world, clock
    )
    try:
        closed = await h.bot.attendance.get(built["closed_id"])
        assert closed is not None and not closed.is_open
        reopened = await h.bot.attendance.get(built["open_id"])
        assert reopened is not None and reopened.is_open
        assert [(r.user_id, r.status) for r in await h.bot.attendance.list_records(closed.id)] == built["records"]
        outbox = await h.bot.outbox.list_for_subject("attendance.close_report", closed.id)
        assert [(o.id, o.status) for o in outbox] == built["outbox"]
        assert (await h.bot.guild_configs.get(built["guild_id"])).timezone == "Europe/Berlin"
        # The copied open roll call is running again on PostgreSQL, and its code still takes answers.
        h.add_member("chloe")
        answered = await here(h, await code_now(h, reopened.id), user="chloe")
        assert "present" in answered.text.lower(), answered.text

        # New rows get ids after the copied ones, not a duplicate key.
        owed = await h.bot.outbox.create(
            NewOwed("text", None, payload={"targets": [], "content": "x"}), now=clock.now()
        )
        assert owed > max(owed_id for owed_id, _ in built["outbox"])
        await h.command("attendance close", user="admin", channel="admin")
        fresh = await open_session(h)
        assert fresh.id > built["open_id"]
    finally:
        await shutdown_bot(h.bot)
        await postgres_server.drop_database(url)


async def test_a_target_that_is_not_empty_is_refused_with_one_line(
    tmp_path, postgres_server, discord_side, world, clock, error_log
):
    sqlite_path = tmp_path / "rollcall.db"
    await build_on_sqlite(sqlite_path, discord_side, world, clock)
    url = await postgres_server.create_database()
    target = await open_database(url)
    try:
        await target.execute("INSERT INTO bot_meta (key, value) VALUES (?, ?)", ("already", "here"))
    finally:
        await target.close()

    result = await migrate(tmp_path, sqlite_path, url)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not empty (table bot_meta has 1 rows)" in lines[0] and "Nothing was written" in lines[0]
    target = await open_database(url)
    try:
        assert await target.fetch_value("SELECT COUNT(*) FROM attendance_session") == 0
    finally:
        await target.close()
        await postgres_server.drop_database(url)


async def test_migrate_needs_database_url_and_an_existing_sqlite_file(tmp_path, postgres_server):
    no_url = await asyncio.to_thread(run_cli, tmp_path, "migrate-to-postgres", DISCORD_BOT_TOKEN="abc.def.ghi")
    assert no_url.returncode == 2
    assert len(no_url.stderr.strip().splitlines()) == 1 and "needs DATABASE_URL" in no_url.stderr

    url = await postgres_server.create_database(migrated=False)
    try:
        missing = await migrate(tmp_path, tmp_path / "nothing.db", url)
        assert missing.returncode == 2
        assert len(missing.stderr.strip().splitlines()) == 1 and "does not exist" in missing.stderr
        assert not (tmp_path / "nothing.db").exists()
    finally:
        await postgres_server.drop_database(url)


async def test_databases_at_different_versions_are_not_copied(tmp_path, postgres_server):
    source = await open_database(tmp_path / "old.db")
    url = await postgres_server.create_database()
    target = await open_database(url)
    try:
        with pytest.raises(CopyRefused, match="version 0"):
            await copy_sqlite_to_postgres(source, target)
    finally:
        await source.close()
        await target.close()
        await postgres_server.drop_database(url)
