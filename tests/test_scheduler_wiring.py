"""One test of the real APScheduler wiring, under time-machine (asyncio's monotonic clock is
left alone, so the event loop keeps working while wall-clock time jumps)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import time_machine

from tests.conftest import START
from tests.harness import boot_bot, shutdown_bot

POLL_SECONDS = 0.01
WAIT_LIMIT_SECONDS = 5


async def wait_for(condition) -> None:
    for _ in range(int(WAIT_LIMIT_SECONDS / POLL_SECONDS)):
        if await condition():
            return
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError("the scheduler never ran the job")


async def test_real_scheduler_rotates_codes_and_closes_on_time(settings, discord_side, world, error_log):
    with time_machine.travel(START, tick=True) as traveller:
        bot, h = await boot_bot(settings, discord_side, world, clock=None)
        try:
            bot.dispatch("ready")
            await asyncio.sleep(0)
            await h.command(
                "config set", user="admin", admin_channel=h.channel("admin"), attendance_channel=h.channel("attendance")
            )
            opened = await h.command("attendance open", user="admin", channel="admin", duration=1)
            assert "is open" in opened.text
            session = await bot.attendance.get_latest(h.guild.id)
            assert {f"attendance.rotate:{session.id}", f"attendance.close:{session.id}"} <= set(bot.jobs.job_ids())

            traveller.shift(timedelta(seconds=16))
            bot.jobs.wakeup()

            async def rotated() -> bool:
                return any(e.message_id == session.message_id for e in discord_side.of_kind("edit"))

            await wait_for(rotated)

            traveller.shift(timedelta(minutes=1))
            bot.jobs.wakeup()

            def reports() -> list:
                admin_messages = discord_side.channel_messages(h.channel("admin").id)
                return [m for m in admin_messages if "closed automatically" in m.content]

            async def closed_and_reported() -> bool:
                # The report is delivered just after the closing commit.
                return not (await bot.attendance.get(session.id)).is_open and bool(reports())

            await wait_for(closed_and_reported)
            assert len(reports()) == 1
        finally:
            await shutdown_bot(bot)


async def test_a_job_running_at_close_finishes_before_the_connections_close(settings, discord_side, world, error_log):
    """APScheduler's own shutdown cancels the task of a job still running: the bot must let it
    finish first, or a close report is cut off between its send and its commit."""
    with time_machine.travel(START, tick=True):
        bot, _ = await boot_bot(settings, discord_side, world, clock=None)
        started, release = asyncio.Event(), asyncio.Event()
        finished: list[int] = []

        async def slow_runner(row_id: int, now) -> None:
            started.set()
            await release.wait()
            # The database is still open: the job's last commit lands.
            await bot.db.fetch_value("SELECT 1")
            finished.append(row_id)

        bot.jobs.register("test.slow", slow_runner)
        bot.dispatch("ready")
        await asyncio.sleep(0)
        bot.jobs.schedule_at("test.slow", 7, bot.clock.now())
        bot.jobs.wakeup()
        await asyncio.wait_for(started.wait(), WAIT_LIMIT_SECONDS)

        closing = asyncio.create_task(shutdown_bot(bot))
        for _ in range(10):
            await asyncio.sleep(0)
        assert not closing.done()
        release.set()
        await asyncio.wait_for(closing, WAIT_LIMIT_SECONDS)
        assert finished == [7]
