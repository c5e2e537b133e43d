"""Start-up, the error path, migrations, command sync and the shape of the command tree."""

from __future__ import annotations

import re

import asyncpg
import discord
import pytest
from discord import app_commands

from bot.checks import AUDIENCE_ADMIN, AUDIENCE_EVERYONE, AUDIENCE_ORGANIZER
from cogs.help import command_audience, walk_leaf_commands
from storage.database import open_database
from storage.migrations import load_migrations
from tests.harness import private

CUSTOM_ID_PATTERN = re.compile(r"^rollcall:[a-z_]+:[a-z_]+(:\d+)*$")


async def test_unexpected_error_answers_with_an_error_id_and_logs_the_traceback(h, error_log):
    @app_commands.command(name="explode", description="Fails on purpose")
    async def explode(interaction: discord.Interaction) -> None:
        raise RuntimeError("boom")

    h.bot.tree.add_command(explode)
    with error_log.expect(1) as records:
        result = await h.command("explode", user="member")
    match = re.search(r"Error id: `([0-9a-f]{8})`", result.text)
    assert match, result.text
    assert result.ephemeral
    assert "boom" not in result.text
    record = records[0]
    assert match.group(1) in record.getMessage()
    assert "/explode" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], RuntimeError)


async def test_migrations_run_twice_change_nothing(tmp_path):
    db = await open_database(tmp_path / "m.db")
    try:
        version = await db.migrate()
        assert version == len(load_migrations("sqlite"))
        schema = await db.fetch_all("SELECT type, name, sql FROM sqlite_master ORDER BY name")
        assert await db.migrate() == version
        assert await db.schema_version() == version
        assert await db.fetch_all("SELECT type, name, sql FROM sqlite_master ORDER BY name") == schema
    finally:
        await db.close()


@pytest.mark.sqlite_only("reads SQLite pragmas")
async def test_database_uses_wal_and_foreign_keys(h):
    assert (await h.bot.db.fetch_one("PRAGMA journal_mode"))[0] == "wal"
    assert (await h.bot.db.fetch_one("PRAGMA foreign_keys"))[0] == 1


async def test_commands_sync_once_and_not_again_after_an_unchanged_restart(h, restart, discord_side):
    assert len(discord_side.of_kind("sync")) == 1
    await restart()
    assert len(discord_side.of_kind("sync")) == 1


async def test_commands_sync_to_the_dev_guild_when_set(running, discord_side):
    from dataclasses import replace

    running.settings = replace(running.settings, dev_guild_id=4242)
    await running.restart()
    syncs = discord_side.of_kind("sync")
    assert syncs[-1].payload["guild_id"] == "4242"
    names = {command["name"] for command in syncs[-1].payload["commands"]}
    assert {"config", "help"} <= names


def all_nodes(tree: app_commands.CommandTree):
    for command in tree.get_commands():
        yield command
        if isinstance(command, app_commands.Group):
            yield from command.walk_commands()


async def test_command_tree_structure(h):
    tree = h.bot.tree
    top_names = [command.name for command in tree.get_commands()]
    assert len(top_names) == len(set(top_names))
    for node in all_nodes(tree):
        assert node.description and node.description != "…", node.qualified_name
        assert len(node.description) <= 100
        if isinstance(node, app_commands.Group):
            children = [child.name for child in node.commands]
            assert len(children) == len(set(children)), node.qualified_name
        else:
            for parameter in node.parameters:
                assert parameter.description and parameter.description != "…", (
                    f"/{node.qualified_name} option {parameter.name} has no description"
                )
    for command in walk_leaf_commands(tree):
        assert command_audience(command) in {AUDIENCE_EVERYONE, AUDIENCE_ORGANIZER, AUDIENCE_ADMIN}
        if command_audience(command) != AUDIENCE_EVERYONE:
            assert command.checks, f"/{command.qualified_name} is staff-only but has no in-code check"


async def test_every_custom_id_the_bot_builds_matches_a_registered_template(h, discord_side):
    templates = private.dynamic_item_templates(h.bot)
    assert templates, "no persistent items registered"
    for pattern in templates:
        assert pattern.pattern.startswith("rollcall:"), pattern.pattern
        assert re.fullmatch(r"rollcall:[a-z_]+:[a-z_]+(:\(\?P<\w+>\\d\+\))*", pattern.pattern), pattern.pattern

    await h.command("attendance sessions", user="admin")
    built = [custom_id for sent in discord_side.sent for custom_id in sent.custom_ids]
    assert built
    for custom_id in built:
        assert len(custom_id) <= 100
        assert CUSTOM_ID_PATTERN.match(custom_id), custom_id
        assert any(pattern.fullmatch(custom_id) for pattern in templates), custom_id


async def test_help_lists_only_what_the_member_may_use(h):
    admin_text = (await h.command("help", user="admin")).text
    member_text = (await h.command("help", user="member")).text
    assert "/config set" in admin_text and "/help" in admin_text
    assert "/config" not in member_text
    assert "/help" in member_text


async def test_closing_the_bot_stops_the_scheduler_and_closes_the_database(running):
    bot = running.harness.bot
    await running.stop()
    assert not bot.jobs._scheduler.running
    # aiosqlite refuses a closed connection with ValueError, asyncpg a closed pool with InterfaceError.
    with pytest.raises((ValueError, asyncpg.InterfaceError)):
        await bot.db.fetch_one("SELECT 1")


async def test_help_shows_organizer_commands_to_the_organizer_role(h):
    before = (await h.command("help", user="organizer")).text
    assert "/attendance open" not in before
    await h.command("config set", user="admin", organizer_role=h.role("Organizer"))
    after = (await h.command("help", user="organizer")).text
    assert "/attendance open" in after and "/here" in after
    assert "/config" not in after
