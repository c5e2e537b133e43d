"""Several processes on one database: SHARD_COUNT / SHARD_IDS settings, each process rebuilding
the jobs of its own guilds only, only shard 0's process syncing commands, and two bots racing for
the same due rows without firing anything twice (every job claims its row before acting)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from bot import Rollcall, ShardedRollcall, create_bot
from bot.delivery import DELIVER_JOB
from bot.shards import ShardSet, shard_of
from cogs.attendance.live import CLOSE_JOB, ROTATE_JOB
from cogs.events.cog import REFRESH_JOB
from cogs.events.reminders import TIMER_JOB
from config import ConfigError, Settings
from storage.outbox import NewOwed
from tests.harness import GUILD_ID, Harness, boot_bot, shutdown_bot
from tests.test_attendance import configure
from tests.test_events_create import configure as configure_events
from tests.test_events_create import created
from tests.test_settings import run_main

# The harness's server travels on shard 1 of 2.
HARNESS_SHARD = shard_of(GUILD_ID, 2)
OTHER_SHARD = 1 - HARNESS_SHARD


def shard_settings(values: dict[str, str]) -> Settings:
    return Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "DATABASE_URL": "postgresql://db/rollcall", **values})


# ---- settings ------------------------------------------------------------------------------


def test_shards_default_to_one_process_running_every_shard():
    settings = Settings.from_mapping({"DISCORD_BOT_TOKEN": "t"})
    assert (settings.shard_count, settings.shard_ids) == (1, None)
    assert ShardSet.from_settings(settings) == ShardSet(1, (0,))
    assert isinstance(create_bot(settings), Rollcall)
    assert not isinstance(create_bot(settings), ShardedRollcall)


def test_shard_ids_default_to_all_of_the_count_and_are_read_in_any_order():
    assert ShardSet.from_settings(shard_settings({"SHARD_COUNT": "4"})) == ShardSet(4, (0, 1, 2, 3))
    picked = shard_settings({"SHARD_COUNT": "4", "SHARD_IDS": " 3, 1 "})
    assert picked.shard_ids == (1, 3)


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"SHARD_COUNT": "two"}, "SHARD_COUNT='two'"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT='0'"),
        ({"SHARD_COUNT": "-2"}, "SHARD_COUNT='-2'"),
        ({"SHARD_COUNT": "²"}, "SHARD_COUNT='²'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0;1"}, "SHARD_IDS='0;1'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,,1"}, "SHARD_IDS='0,,1'"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "0,4"}, "names shard 4"),
        ({"SHARD_IDS": "1"}, "names shard 1"),
        ({"SHARD_COUNT": "4", "SHARD_IDS": "1,2,1"}, "lists a shard twice"),
    ],
)
def test_bad_shard_settings_are_refused_naming_the_variable(values, named):
    with pytest.raises(ConfigError) as refused:
        shard_settings(values)
    assert named in str(refused.value)
    assert "\n" not in str(refused.value)


def test_sqlite_refuses_more_than_one_shard():
    with pytest.raises(ConfigError) as refused:
        Settings.from_mapping({"DISCORD_BOT_TOKEN": "t", "SHARD_COUNT": "2"})
    assert "SHARD_COUNT=2 needs PostgreSQL" in str(refused.value)


def test_main_with_sqlite_and_two_shards_exits_2_with_one_line(tmp_path):
    result = run_main(tmp_path, DISCORD_BOT_TOKEN="abc.def.ghi", SHARD_COUNT="2", SHARD_IDS="0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "SHARD_COUNT=2 needs PostgreSQL" in lines[0] and "DATABASE_URL" in lines[0]
    assert not (tmp_path / "data").exists()


def test_main_with_a_shard_id_beyond_the_count_exits_2_with_one_line(tmp_path):
    result = run_main(tmp_path, DISCORD_BOT_TOKEN="abc.def.ghi", SHARD_COUNT="1", SHARD_IDS="0,1")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SHARD_IDS='0,1' names shard 1" in result.stderr


def test_a_sharded_bot_is_an_auto_sharded_bot_running_its_shards(tmp_path):
    settings = Settings(token="t", database_path=tmp_path / "r.db", shard_count=4, shard_ids=(1, 3))
    bot = create_bot(settings)
    assert isinstance(bot, ShardedRollcall)
    assert (bot.shard_count, bot.shard_ids) == (4, [1, 3])


def test_owns_guild_follows_discords_shard_rule():
    shards = ShardSet(4, (1, 3))
    for guild_id in (GUILD_ID, 81_384_788_765_712_384, 1_100_000_000_000_000_000, 175_928_847_299_117_063):
        assert shards.owns_guild(guild_id) == (((guild_id >> 22) % 4) in (1, 3))
    # Rows of no guild (DMs) belong to the process holding shard 0.
    assert not shards.owns_guild(None)
    assert ShardSet(4, (0,)).owns_guild(None)


# ---- each process rebuilds its own guilds' jobs ----------------------------------------------


async def start_shard_bot(running, ids: tuple[int, ...]) -> Harness:
    """Stop the test's bot and start one running `ids` of 2 shards on the same database.

    dpytest cannot run an `AutoShardedBot`, so this is the unsharded class given the shard
    settings: the job filter and the sync rule read the settings, not the class."""
    await running.stop()
    settings = dataclasses.replace(running.settings, shard_count=2, shard_ids=ids)
    _, running.harness = await boot_bot(settings, running.side, running.world, running.clock, bot_class=Rollcall)
    return running.harness


async def open_roll_call(h: Harness, **options):
    result = await h.command("attendance open", user="admin", channel="admin", options=options)
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


async def test_a_shard_process_does_not_rebuild_the_jobs_of_another_shards_guild(h, running, clock, discord_side):
    await configure(h)
    session = await open_roll_call(h, duration=5)
    owed = await h.bot.outbox.create(
        NewOwed("text", GUILD_ID, payload={"targets": [], "content": "x"}), now=clock.now()
    )

    other = await start_shard_bot(running, (OTHER_SHARD,))
    jobs = other.bot.jobs.job_ids()
    assert f"{ROTATE_JOB}:{session.id}" not in jobs
    assert f"{CLOSE_JOB}:{session.id}" not in jobs
    assert f"{DELIVER_JOB}:{owed}" not in jobs
    edits_before = len(discord_side.of_kind("edit"))
    clock.advance(minutes=6)
    await other.bot.run_due_jobs()
    assert (await other.bot.attendance.get(session.id)).is_open
    assert len(discord_side.of_kind("edit")) == edits_before

    owner = await start_shard_bot(running, (HARNESS_SHARD,))
    jobs = owner.bot.jobs.job_ids()
    assert {f"{ROTATE_JOB}:{session.id}", f"{CLOSE_JOB}:{session.id}", f"{DELIVER_JOB}:{owed}"} <= set(jobs)
    await owner.bot.run_due_jobs()
    assert not (await owner.bot.attendance.get(session.id)).is_open


async def test_a_shard_process_does_not_refresh_the_event_posts_of_another_shards_guild(h, running, clock):
    now = clock.now()
    event = await h.bot.events.create(
        guild_id=GUILD_ID,
        channel_id=h.channel("general").id,
        created_by=h.member("admin").id,
        now=now,
        title="Raid night",
        description="",
        location="",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    await h.bot.events.set_message(event.id, 1234)
    await h.bot.events.mark_post_stale(event.id, now=now)

    other = await start_shard_bot(running, (OTHER_SHARD,))
    assert f"{REFRESH_JOB}:{event.id}" not in other.bot.jobs.job_ids()

    owner = await start_shard_bot(running, (HARNESS_SHARD,))
    assert f"{REFRESH_JOB}:{event.id}" in owner.bot.jobs.job_ids()


async def test_only_the_process_holding_shard_0_syncs_commands(h, running, discord_side):
    syncs = len(discord_side.of_kind("sync"))
    assert syncs == 1
    # A changed application makes the stored tree hash stale, so a process that syncs would sync.
    await h.bot.meta.set("command_tree_hash:global", "stale")
    await start_shard_bot(running, (1,))
    assert len(discord_side.of_kind("sync")) == syncs
    await start_shard_bot(running, (0,))
    assert len(discord_side.of_kind("sync")) == syncs + 1


# ---- two bots racing for the same due rows -------------------------------------------------


@asynccontextmanager
async def second_bot(running) -> AsyncIterator[Harness]:
    """Another process on the same database file, started now, serving the same shards by mistake."""
    _, harness = await boot_bot(running.settings, running.side, running.world, running.clock)
    try:
        yield harness
    finally:
        await shutdown_bot(harness.bot)


async def both_run_due(first: Harness, second: Harness) -> None:
    await asyncio.gather(first.bot.run_due_jobs(), second.bot.run_due_jobs())
    await first.idle()
    await second.idle()


def close_reports(discord_side, h: Harness, session_id: int) -> list:
    return [
        m
        for m in discord_side.channel_messages(h.channel("admin").id)
        if m.content.startswith(f"Roll call #{session_id} in") and "closed" in m.content
    ]


async def test_two_bots_racing_for_a_due_close_post_one_report(h, running, clock, discord_side):
    await configure(h)
    session = await open_roll_call(h, duration=5)
    async with second_bot(running) as second:
        assert f"{CLOSE_JOB}:{session.id}" in second.bot.jobs.job_ids()
        clock.advance(minutes=5)

        await both_run_due(h, second)

        assert len(close_reports(discord_side, h, session.id)) == 1
        closing_edits = [
            sent
            for sent in discord_side.of_kind("edit")
            if sent.message_id == session.message_id and "closed" in str(sent.payload).lower()
        ]
        assert len(closing_edits) == 1
        assert not (await h.bot.attendance.get(session.id)).is_open


def code_edits(discord_side, message_id: int) -> list:
    return [sent for sent in discord_side.of_kind("edit") if sent.message_id == message_id]


async def test_two_bots_racing_for_a_code_change_edit_the_message_once_per_window(h, running, clock, discord_side):
    await configure(h)
    session = await open_roll_call(h)
    async with second_bot(running) as second:
        # The second process resumed the open roll call at start-up: its first run refreshes
        # the code message once (it may be stale or deleted), as after any restart.
        await both_run_due(h, second)
        resumed = len(code_edits(discord_side, session.message_id))
        assert resumed == 1

        for window in (1, 2, 3):
            clock.advance(seconds=session.interval_seconds)
            await both_run_due(h, second)
            assert len(code_edits(discord_side, session.message_id)) == resumed + window
            assert (await h.bot.attendance.get(session.id)).shown_window == window


async def test_two_bots_racing_for_due_owed_messages_deliver_each_once(h, running, clock, discord_side):
    await configure(h)
    admin_channel = h.channel("admin").id
    owed_ids = [
        await h.bot.outbox.create(
            NewOwed("text", GUILD_ID, payload={"targets": [f"channel:{admin_channel}"], "content": f"notice {n}"}),
            now=clock.now(),
        )
        for n in range(5)
    ]
    async with second_bot(running) as second:
        assert {f"{DELIVER_JOB}:{owed}" for owed in owed_ids} <= set(second.bot.jobs.job_ids())
        await both_run_due(h, second)

    posted = [m.content for m in discord_side.channel_messages(admin_channel) if m.content.startswith("notice ")]
    assert sorted(posted) == [f"notice {n}" for n in range(5)]
    for owed in owed_ids:
        assert (await h.bot.outbox.get(owed)).status == "delivered"


async def test_a_shard_process_does_not_plan_the_event_timers_of_another_shards_guild(h, running):
    await configure_events(h)
    await created(h)
    pending = await h.bot.event_reminders.list_pending()
    assert pending, "creating the event planned its reminders and flips"

    other = await start_shard_bot(running, (OTHER_SHARD,))
    assert not [job for job in other.bot.jobs.job_ids() if job.startswith(f"{TIMER_JOB}:")]

    owner = await start_shard_bot(running, (HARNESS_SHARD,))
    planned = {job for job in owner.bot.jobs.job_ids() if job.startswith(f"{TIMER_JOB}:")}
    assert planned == {f"{TIMER_JOB}:{timer.id}" for timer, _ in pending}
