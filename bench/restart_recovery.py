"""Restart recovery: every scheduled event moment comes back from rows after a restart, and each
runs exactly once.

A first bot seeds 500 upcoming events across 100 guilds through the events repository and the
cog's own planning, so the database holds 1,000 future reminders (the default 60 and 10
minutes) plus each event's start and end flips and its missed-attendance check; 200 of the
events start a daily series of two occurrences, whose second is created when the first ends.
The bot is closed; a new one starts on the same file, and `rebuild_ms` runs from the start of
its boot until every pending row has its job. Then the clock advances in 5-minute steps past the
last event, calling `run_due_jobs()` each step, with one more restart half-way. Prints one JSON
line:

    {"jobs": …, "rebuild_ms": …, "fired": …, "fired_twice": 0, "missed": 0, …}

`jobs`: timer and series jobs scheduled after the restart; `fired`: rows that ran (reminders,
flips and missed-attendance checks of the seeded events) plus series that created their next
occurrence; `fired_twice`: reminders posted or DM'd more than once, and occurrences created more
than once; `missed`: rows never run, reminders whose post or DM never came, and series that never
created their next occurrence. Targets: rebuild_ms < 2000, fired_twice 0, missed 0.

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
from cogs.events.series import SERIES_JOB, RepeatPlan
from config import Settings
from tests.harness import World, boot_bot
from tests.harness.private import install_webhook_handler

GUILD_BASE = 1_300_000_000_000_000_000
STEP = timedelta(minutes=5)
SERIES_WANTED = 200
TWICE_DAILY = RepeatPlan(rule="daily", every_days=None, until_day=None, max_count=2)


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
        if index < SERIES_WANTED:
            # Each series has two occurrences: the second is created, once, when this one ends.
            await events_cog.start_series(event, TWICE_DAILY, timezone="UTC", now=START)
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
        finally:
            await shutdown_bot(bot)

        seeded = set(event_ids)
        began = time.perf_counter()
        bot, h = await boot_bot(settings, side, world, clock)
        rebuild_ms = (time.perf_counter() - began) * 1000
        pending = [timer for timer, _ in await bot.event_reminders.list_pending()]
        scheduled = {job for job in bot.jobs.job_ids() if job.startswith(f"{TIMER_JOB}:")}
        series_jobs = {job for job in bot.jobs.job_ids() if job.startswith(f"{SERIES_JOB}:")}
        jobs = len(scheduled) + len(series_jobs)
        unscheduled = sum(1 for timer in pending if f"{TIMER_JOB}:{timer.id}" not in scheduled)
        unscheduled += SERIES_WANTED - len(series_jobs)
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
            rows = [
                row
                for row in await bot.db.fetch_all("SELECT event_id, kind, fired_at, outcome FROM event_timer")
                if row["event_id"] in seeded
            ]
            occurrences = Counter(
                row["series_id"]
                for row in await bot.db.fetch_all("SELECT series_id FROM event WHERE series_id IS NOT NULL")
            )
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
    # Each series was due once (its first occurrence ending): created its second, exactly once.
    series_fired = sum(1 for count in occurrences.values() if count >= 2)
    twice += sum(max(0, count - 2) for count in occurrences.values())
    series_missed = SERIES_WANTED - series_fired
    return {
        "jobs": jobs,
        "rebuild_ms": round(rebuild_ms, 1),
        "fired": len(ran) + series_fired,
        "fired_twice": twice,
        "missed": never + short + unscheduled + series_missed,
        "guilds": guilds,
        "events": len(event_ids),
        "reminders": kinds["reminder"],
        "status_flips": kinds["start"] + kinds["end"],
        "missed_attendance_checks": kinds["missed"],
        "series": SERIES_WANTED,
        "series_occurrences_created": series_fired,
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
