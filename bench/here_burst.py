"""A lecture hall answering a roll call at once.

N members send `/here` with the current code concurrently through the real interaction path
(the test harness's fake Discord, discord.py's parser and command tree, the bot's own code and
database). Prints one JSON line: throughput, latency from dispatch to the recorded initial
response, rows persisted, and the same N upserts done with bare aiosqlite as the reference.

    python -m bench.here_burst --students 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
from discord.webhook.async_ import AsyncWebhookAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import ManualClock
from config import Settings
from storage.database import encode_time
from tests.harness import FakeDiscord, UserSpec, World, boot_bot, shutdown_bot
from utils.codes import window_at, window_code

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STUDENT_ID_BASE = 1_250_000_000_000_000_000
RESPONSE_TIMEOUT_SECONDS = 120


class CountErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def bare_upserts(path: Path, rows: list[tuple]) -> float:
    """The reference: the same upserts, one execute + commit each, on one WAL connection."""
    async with aiosqlite.connect(path) as connection:
        await connection.execute("PRAGMA journal_mode = WAL")
        # Same durability as the bot: every acknowledged row is fsynced.
        await connection.execute("PRAGMA synchronous = FULL")
        await connection.execute(
            "CREATE TABLE attendance_record (session_id INTEGER NOT NULL, user_id INTEGER NOT NULL, "
            "status TEXT NOT NULL, submitted_at TEXT, user_name TEXT NOT NULL, display_name TEXT NOT NULL, "
            "corrected_by INTEGER, corrected_at TEXT, PRIMARY KEY (session_id, user_id))"
        )
        await connection.commit()
        started = time.perf_counter()
        for row in rows:
            await connection.execute(
                "INSERT INTO attendance_record (session_id, user_id, status, submitted_at, user_name, display_name) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, user_id) DO UPDATE SET "
                "status = excluded.status, submitted_at = excluded.submitted_at",
                row,
            )
            await connection.commit()
        return time.perf_counter() - started


async def run(students: int) -> dict:
    logging.basicConfig(level=logging.WARNING)
    errors = CountErrors()
    logging.getLogger().addHandler(errors)
    side = FakeDiscord()

    async def webhook_request(self, route, session, *, payload=None, multipart=None, files=None, **kwargs):
        return await side.webhook_request(route, files, {"payload": payload, "multipart": multipart})

    AsyncWebhookAdapter.request = webhook_request  # type: ignore[method-assign]

    with tempfile.TemporaryDirectory() as tmp:
        world = World()
        world.add_users(UserSpec(f"student{i:05d}", STUDENT_ID_BASE + i, ("Student",)) for i in range(students))
        clock = ManualClock(START)
        settings = Settings(token="bench", database_path=Path(tmp) / "rollcall.db")
        bot, h = await boot_bot(settings, side, world, clock)
        try:
            config = await h.command(
                "config set", user="admin", attendance_channel=h.channel("attendance"), admin_channel=h.channel("admin")
            )
            assert "Saved" in config.text, config.text
            opened = await h.command("attendance open", user="admin", channel="admin")
            assert "is open" in opened.text, opened.text
            session = await bot.attendance.latest(h.guild.id)
            code = window_code(
                session.secret, window_at(session.opened_at, session.interval_seconds, clock.now()), session.code_length
            )
            channel = h.channel("attendance")
            payloads = [
                h.command_payload("here", user=h.guild.get_member(STUDENT_ID_BASE + i), channel=channel, code=code)
                for i in range(students)
            ]
            ids = [int(p["id"]) for p in payloads]
            dispatched: dict[int, float] = {}

            started = time.perf_counter()
            for payload in payloads:
                dispatched[int(payload["id"])] = time.perf_counter()
                h.dispatch_nowait(payload)
                # The gateway delivers events one by one; yielding lets handlers run meanwhile.
                await asyncio.sleep(0)
            deadline = time.perf_counter() + RESPONSE_TIMEOUT_SECONDS
            while time.perf_counter() < deadline and not all(i in side.response_times for i in ids):
                await asyncio.sleep(0.005)
            answered = [i for i in ids if i in side.response_times]
            finished = max((side.response_times[i] for i in answered), default=time.perf_counter())
            bot_seconds = finished - started
            latencies = [(side.response_times[i] - dispatched[i]) * 1000 for i in answered]
            responses = {s.interaction_id: s for s in side.sent if s.kind == "response"}
            accepted = sum(1 for i in answered if "present" in responses[i].content)
            await bot.attendance.flush()
            persisted = len(await bot.attendance.records(session.id))
        finally:
            await shutdown_bot(bot)

        submitted_at = encode_time(clock.now())
        rows = [(1, STUDENT_ID_BASE + i, "present", submitted_at, f"s{i}", f"s{i}") for i in range(students)]
        bare_seconds = await bare_upserts(Path(tmp) / "bare.db", rows)

    return {
        "students": students,
        "accepted": accepted,
        "persisted": persisted,
        "lost": students - persisted,
        "errors": (students - len(answered)) + errors.count + (len(answered) - accepted),
        "throughput_per_s": round(len(answered) / bot_seconds, 1) if bot_seconds else None,
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "bot_seconds": round(bot_seconds, 3),
        "bare_seconds": round(bare_seconds, 3),
        "ratio": round(bare_seconds / bot_seconds, 3) if bot_seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.students))))


if __name__ == "__main__":
    main()
