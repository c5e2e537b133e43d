"""The heartbeat the running bot writes, and `python main.py healthcheck` (Docker's HEALTHCHECK)
reading it: healthy only while the beat is fresh."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.heartbeat import HEARTBEAT_JOB, HEARTBEAT_SECONDS, STALE_AFTER, heartbeat_age, heartbeat_path, write_heartbeat
from config import Settings
from tests.test_backup import run_cli


async def test_the_running_bot_rewrites_its_heartbeat_on_schedule(h, clock, settings, db_path):
    path = heartbeat_path(settings)
    assert path == db_path.parent / "heartbeat"
    assert f"{HEARTBEAT_JOB}:0" in h.bot.jobs.job_ids()

    await h.bot.run_due_jobs()
    assert heartbeat_age(path, clock.now()) == timedelta(0)

    clock.advance(seconds=HEARTBEAT_SECONDS)
    await h.bot.run_due_jobs()
    assert heartbeat_age(path, clock.now()) == timedelta(0)


async def test_a_closed_bot_writes_no_more_beats(running, clock, settings):
    await running.harness.bot.run_due_jobs()
    bot = running.harness.bot
    await running.stop()
    clock.advance(seconds=HEARTBEAT_SECONDS)
    await bot.jobs.run_kind(HEARTBEAT_JOB, 0)
    assert heartbeat_age(heartbeat_path(settings), clock.now()) == timedelta(seconds=HEARTBEAT_SECONDS)


def test_shard_processes_sharing_a_data_folder_write_their_own_heartbeat(tmp_path):
    base = Settings(token="t", database_path=tmp_path / "rollcall.db")
    assert heartbeat_path(base).name == "heartbeat"
    two_of_four = Settings(token="t", database_path=tmp_path / "rollcall.db", shard_count=4, shard_ids=(2, 3))
    assert heartbeat_path(two_of_four) == tmp_path / "heartbeat-shards-2-3"
    every = Settings(token="t", database_path=tmp_path / "rollcall.db", shard_count=2)
    assert heartbeat_path(every) == tmp_path / "heartbeat-shards-0-1"


def healthcheck(tmp_path):
    return run_cli(tmp_path, "healthcheck", DISCORD_BOT_TOKEN="abc.def.ghi", DATABASE_PATH="data/rollcall.db")


def test_healthcheck_is_healthy_only_while_the_heartbeat_is_fresh(tmp_path):
    path = tmp_path / "data" / "heartbeat"

    missing = healthcheck(tmp_path)
    assert missing.returncode == 1
    assert len(missing.stderr.strip().splitlines()) == 1 and "no heartbeat" in missing.stderr

    write_heartbeat(path, datetime.now(UTC))
    fresh = healthcheck(tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("healthy")

    write_heartbeat(path, datetime.now(UTC) - STALE_AFTER - timedelta(seconds=30))
    stale = healthcheck(tmp_path)
    assert stale.returncode == 1
    assert len(stale.stderr.strip().splitlines()) == 1 and "stuck or stopped" in stale.stderr

    path.write_text("garbage")
    assert healthcheck(tmp_path).returncode == 1
