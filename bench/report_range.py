"""`/report range` over a year of a busy server: 2,000 members, 300 roll calls, 200 events.

The database is seeded the way that year would leave it (most members attend most roll calls:
80 % present, 8 % late, 8 % absent, 4 % excused; each event has 5–10 % of the members Going, of
whom 85 % come, plus a few walk-ins), then an organizer runs `/report range` over all of it
through discord.py's parser and the command tree, chart included; `seconds` runs from handing
that interaction over to its answer. A ticker task measures the longest the event loop was
blocked meanwhile. Then the same report as `format:csv` gives `csv_rows`. Prints one JSON line:

    {"members": 2000, "sessions": 300, "events": 200, "seconds": …, "png_bytes": …,
     "csv_rows": …, "loop_blocked_max_ms": …}

Targets: seconds < 3, loop_blocked_max_ms < 100.

    python -m bench.report_range [--members 2000] [--sessions 300] [--events 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import START, ErrorCount, FakeDiscord, LoopProbe, install_fake_webhook, shutdown_bot
from bot.clock import ManualClock
from bot.heap import freeze_heap_at_ready
from config import Settings
from tests.harness import UserSpec, World, boot_bot

MEMBER_ID_BASE = 1_260_000_000_000_000_000
STATUSES = ("present",) * 80 + ("late",) * 8 + ("absent",) * 8 + ("excused",) * 4
FIRST_DAY = START - timedelta(days=330)


async def seed(bot: Any, guild_id: int, channel_id: int, members: list[int], sessions: int, events: int) -> None:
    """A year of history written straight into the database: no repository writes hundreds of
    thousands of past records at once, and this is the bench's set-up, not what it measures."""
    rng = random.Random(14)
    async with bot.db.transaction() as tx:
        for index in range(sessions):
            opened = FIRST_DAY + timedelta(days=index, hours=rng.randint(0, 8))
            await tx.execute(
                "INSERT INTO attendance_session (id, guild_id, channel_id, opened_by, opened_at, closed_at, secret, "
                "interval_seconds, code_length, grace_seconds, late_after_minutes, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 30, 6, 5, 10, 'closed')",
                (index + 1, guild_id, channel_id, members[0], opened, opened + timedelta(hours=1), b"bench-secret"),
            )
            await tx.execute_many(
                "INSERT INTO attendance_record (session_id, user_id, status, submitted_at, user_name, display_name) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (index + 1, user, status, opened + timedelta(minutes=2) if status != "absent" else None, name, name)
                    for user, name, status in (
                        (user, f"member{user - MEMBER_ID_BASE:05d}", rng.choice(STATUSES)) for user in members
                    )
                ],
            )
        for index in range(events):
            starts = FIRST_DAY + timedelta(days=index * 1.6, hours=18)
            event_id = index + 1
            await tx.execute(
                "INSERT INTO event (id, guild_id, channel_id, created_by, created_at, title, starts_at, ends_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    guild_id,
                    channel_id,
                    members[0],
                    starts - timedelta(days=7),
                    f"Event {event_id}",
                    starts,
                    starts + timedelta(hours=3),
                ),
            )
            going = rng.sample(members, rng.randint(len(members) // 20, len(members) // 10))
            await tx.execute_many(
                "INSERT INTO event_rsvp (event_id, user_id, status, sequence, updated_at) VALUES (?, ?, 'going', ?, ?)",
                [(event_id, user, position, starts - timedelta(days=1)) for position, user in enumerate(going)],
            )
            came = [user for user in going if rng.random() < 0.85]
            walk_ins = rng.sample([user for user in members if user not in set(going)], 3)
            await tx.execute_many(
                "INSERT INTO event_attendance (event_id, user_id, attended_at, source) VALUES (?, ?, ?, 'command')",
                [(event_id, user, starts + timedelta(minutes=10)) for user in came + walk_ins],
            )


async def run(members: int, sessions: int, events: int) -> dict[str, Any]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    side = FakeDiscord()
    install_fake_webhook(side)
    clock = ManualClock(START)
    member_ids = [MEMBER_ID_BASE + index for index in range(members)]
    world = World()
    world.add_users(UserSpec(f"member{user - MEMBER_ID_BASE:05d}", user, ("Student",)) for user in member_ids)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token="bench", database_path=Path(tmp) / "rollcall.db")
        bot, h = await boot_bot(settings, side, world, clock, prepare=freeze_heap_at_ready)
        try:
            configured = await h.command("config set", user="admin", options={"timezone": "Europe/Berlin"})
            assert "Saved" in configured.text, configured.text
            await seed(bot, h.guild.id, h.channel("attendance").id, member_ids, sessions, events)
            # The seeding's garbage is the bench's, not the bot's: a year of use never leaves it all at once.
            gc.collect()
            days = {"from": (FIRST_DAY - timedelta(days=1)).date().isoformat(), "to": START.date().isoformat()}
            payload = h.command_payload(
                "report range", user=h.member("admin"), channel=h.channel("admin"), options=days
            )
            probe = LoopProbe()
            probe.start()
            began = time.perf_counter()
            result = await h.dispatch(payload)
            seconds = time.perf_counter() - began
            as_csv = await h.dispatch(
                h.command_payload(
                    "report range",
                    user=h.member("admin"),
                    channel=h.channel("admin"),
                    options={**days, "format": "csv"},
                )
            )
            await probe.stop()
            png = dict(result.reply.files).get("chart.png", b"")
            members_file = next(data for name, data in as_csv.reply.files if name.startswith("rollcall-members"))
            csv_rows = members_file.decode("utf-8-sig").count("\r\n") - 1
        finally:
            await shutdown_bot(bot)
    logging.getLogger().removeHandler(errors)
    return {
        "members": members,
        "sessions": sessions,
        "events": events,
        "seconds": round(seconds, 2),
        "png_bytes": len(png),
        "csv_rows": csv_rows,
        "loop_blocked_max_ms": probe.blocked_max_ms(),
        "errors": errors.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.members, args.sessions, args.events))))


if __name__ == "__main__":
    main()
