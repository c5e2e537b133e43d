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
