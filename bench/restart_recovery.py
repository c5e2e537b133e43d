"""Restart recovery: every scheduled event moment comes back from rows after a restart, and each
runs exactly once.

A first bot seeds 500 upcoming events across 100 guilds through the events repository and the
cog's own planning, so the database holds 1,000 future reminders (the default 60 and 10
minutes) plus each event's start and end flips and its missed-attendance check. When the
recurring-series table exists (the lifecycle's second half), 200 series are counted as well;
without it the line says `"series": 0`. The bot is closed; a new one starts on the same file,
and `rebuild_ms` runs from the start of its boot until every pending row has its job. Then the
clock advances in 5-minute steps past the last event, calling `run_due_jobs()` each step, with
one more restart half-way. Prints one JSON line:

    {"jobs": …, "rebuild_ms": …, "fired": …, "fired_twice": 0, "missed": 0, …}

`jobs`: timer jobs scheduled after the restart; `fired`: rows that ran (reminders, flips and
missed-attendance checks); `fired_twice`: reminders posted or DM'd more than once;
`missed`: rows never run, or reminders whose post or DM never came. Targets: rebuild_ms < 2000,
fired_twice 0, missed 0.

    python -m bench.restart_recovery [--guilds 100] [--events-per-guild 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import START, ErrorCount, FakeDiscord, shutdown_bot
from bot.clock import ManualClock
from cogs.events.reminders import TIMER_JOB
from config import Settings
from tests.harness import World, boot_bot
from tests.harness.private import install_webhook_handler

GUILD_BASE = 1_300_000_000_000_000_000
STEP = timedelta(minutes=5)
SERIES_TABLES = ("event_series",)
SERIES_WANTED = 200


async def has_series_table(bot: Any) -> bool:
    found = await bot.db.fetch_value(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (SERIES_TABLES[0],)
    )
    return bool(found)


async def seed(bot: Any, h: Any, guilds: int, per_guild: int) -> list[int]:
    """Events spread two minutes apart from tomorrow on, each with two Going members."""
    events_cog = bot.get_cog("Events")
    channel_id = h.channel("general").id
    going = [h.member("student").id, h.member("student2").id]
    first_start = START + timedelta(days=1)
    event_ids = []
    for index in range(guilds * per_guild):
        starts_at = first_start + timedelta(minutes=2 * index)
        event = await bot.events.create(
            guild_id=GUILD_BASE + index % guilds,
            channel_id=channel_id,
            created_by=h.member("admin").id,
            now=START,
            title=f"Bench event {index}",
            description="",
            location="",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            capacity=None,
            role_id=None,
            signup_cutoff_at=None,
        )
        for user_id in going:
            await bot.events.set_rsvp(event.id, user_id, "going", now=START)
        await events_cog.plan_event_timers(event)
        event_ids.append(event.id)
    return event_ids


async def run(guilds: int, per_guild: int) -> dict[str, Any]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    side = FakeDiscord()
    install_webhook_handler(side.webhook_request)
    world = World()
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token="bench", database_path=Path(tmp) / "rollcall.db")
        bot, h = await boot_bot(settings, side, world, clock)
        try:
            event_ids = await seed(bot, h, guilds, per_guild)
            series = SERIES_WANTED if await has_series_table(bot) else 0
        finally:
            await shutdown_bot(bot)

        began = time.perf_counter()
        bot, h = await boot_bot(settings, side, world, clock)
        rebuild_ms = (time.perf_counter() - began) * 1000
        pending = [timer for timer, _ in await bot.event_reminders.list_pending()]
        scheduled = {job for job in bot.jobs.job_ids() if job.startswith(f"{TIMER_JOB}:")}
        jobs = len(scheduled)
        unscheduled = sum(1 for timer in pending if f"{TIMER_JOB}:{timer.id}" not in scheduled)
        last = max(timer.due_at for timer in pending)
        half_way = clock.now() + (last - clock.now()) / 2
        restarted = False
        try:
            while clock.now() <= last + STEP:
                clock.advance(seconds=STEP.total_seconds())
                await bot.run_due_jobs()
                await h.idle()
                if not restarted and clock.now() >= half_way:
                    await shutdown_bot(bot)
                    bot, h = await boot_bot(settings, side, world, clock)
                    restarted = True
            rows = await bot.db.fetch_all("SELECT kind, fired_at, outcome FROM event_timer")
        finally:
            await shutdown_bot(bot)
    logging.getLogger().removeHandler(errors)

    ran = [row for row in rows if row["fired_at"] is not None and not str(row["outcome"]).startswith("dropped")]
    never = sum(1 for row in rows if row["fired_at"] is None or str(row["outcome"]).startswith("dropped"))
    reminders_per_event = 2
    titles = [f"Bench event {index}" for index in range(len(event_ids))]
    posts = Counter(
        title
        for sent in side.sent
        if sent.kind == "message" and sent.content.startswith("⏰ **")
        for title in [sent.content.split("**")[1]]
    )
    dms = Counter(
        (sent.user_id, sent.content.split("**")[1])
        for sent in side.sent
        if sent.kind == "dm" and sent.content.startswith("⏰ Reminder")
    )
    twice = sum(max(0, count - reminders_per_event) for count in posts.values())
    twice += sum(max(0, count - reminders_per_event) for count in dms.values())
    short = sum(max(0, reminders_per_event - posts.get(title, 0)) for title in titles)
    short += sum(
        max(0, reminders_per_event - dms.get((user_id, title), 0))
        for title in titles
        for user_id in (h.member("student").id, h.member("student2").id)
    )
    kinds = Counter(row["kind"] for row in ran)
    return {
        "jobs": jobs,
        "rebuild_ms": round(rebuild_ms, 1),
        "fired": len(ran),
        "fired_twice": twice,
        "missed": never + short + unscheduled,
        "guilds": guilds,
        "events": len(event_ids),
        "reminders": kinds["reminder"],
        "status_flips": kinds["start"] + kinds["end"],
        "missed_attendance_checks": kinds["missed"],
        "series": series,
        "errors": errors.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=100)
    parser.add_argument("--events-per-guild", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.guilds, args.events_per_guild))))


if __name__ == "__main__":
    main()
