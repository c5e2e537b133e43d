"""Two shard processes on one PostgreSQL racing for the same due jobs: none fires twice, none is missed.

An embedded PostgreSQL server is started; 10,000 owed notices (outbox rows, the scheduler's
`delivery.owed` jobs) across 2,000 guilds are all due in the same minute. Two bot processes
(child processes of this one, each with the test harness's fake Discord) start on that database
and rebuild their jobs from the rows; once both are ready they are told to go at the same
instant and each runs every job due at that minute (`run_due_jobs`, the scheduler's own path).
By default both run shards 0 and 1 of 2, the mistake of overlapping shard lists, so every row
is raced for and only the claim (`claimed_until`) keeps a notice from going out twice;
`--shard-ids 0 1` gives each process its own shard.

Prints ONE JSON line: {"jobs": 10000, "fired": ..., "fired_twice": 0, "missed": 0, "seconds": ...}
`fired` counts notices the fake Discords received (distinct), `fired_twice` the extra copies,
`missed` the jobs neither sent nor recorded delivered; `seconds` runs from "go" until both
processes were done. Targets: fired_twice 0, missed 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench.common import FakeDiscord, ManualClock, Settings, World, boot_bot, shutdown_bot
from bot import Rollcall
from storage.backend import Database
from storage.database import open_database
from storage.outbox import NewOwed, OutboxRepository
from tests.harness import DEFAULT_CHANNELS
from tests.postgres_server import EmbeddedPostgres

DUE = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADMIN_CHANNEL = next(channel.id for channel in DEFAULT_CHANNELS if channel.name == "admin")
SHARD_COUNT = 2
# Guild snowflakes whose shard bits ((id >> 22) % 2) alternate, as real ones spread over shards.
GUILD_BASE = 1_000_000


def guild_id(index: int) -> int:
    return ((GUILD_BASE + index) << 22) | 1


async def seed(url: str, jobs: int, guilds: int) -> None:
    database: Database = await open_database(url)
    try:
        await database.migrate()
        outbox = OutboxRepository(database)
        async with database.transaction() as transaction:
            for job in range(jobs):
                payload = {"targets": [f"channel:{ADMIN_CHANNEL}"], "content": f"job {job}"}
                await outbox.add(transaction, NewOwed("text", guild_id(job % guilds), payload=payload), now=DUE)
    finally:
        await database.close()


async def count_delivered(url: str) -> int:
    database = await open_database(url)
    try:
        return int(await database.fetch_value("SELECT COUNT(*) FROM outbox WHERE status = 'delivered'"))
    finally:
        await database.close()


# ---- a shard process ---------------------------------------------------------------------


async def run_child(url: str, shard_ids: tuple[int, ...], folder: Path) -> None:
    side = FakeDiscord()
    settings = Settings(
        token="bench",
        database_path=folder / f"shards-{'-'.join(map(str, shard_ids))}" / "unused.db",
        database_url=url,
        shard_count=SHARD_COUNT,
        shard_ids=shard_ids,
    )
    # dpytest cannot run an AutoShardedBot: the unsharded class with the shard settings has the
    # same job filter and claims.
    bot, _ = await boot_bot(settings, side, World(), ManualClock(DUE), bot_class=Rollcall)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    started = time.perf_counter()
    await bot.run_due_jobs()  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    sent = [
        int(message.content.removeprefix("job "))
        for message in side.channel_messages(ADMIN_CHANNEL)
        if message.content.startswith("job ")
    ]
    await shutdown_bot(bot)
    print(json.dumps({"sent": sent, "seconds": seconds}), flush=True)


# ---- the race ----------------------------------------------------------------------------


def start_child(url: str, shard_ids: tuple[int, ...], folder: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "bench.shard_jobs", "--child", url, "--folder", str(folder)]
    command += ["--shard-ids", *map(str, shard_ids)]
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def race(jobs: int, guilds: int, shard_lists: list[tuple[int, ...]]) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rollcall-shard-bench-") as scratch:
        folder = Path(scratch)
        server = EmbeddedPostgres(folder, durable=True)
        server.start()
        try:
            url = asyncio.run(server.create_database(migrated=False))
            asyncio.run(seed(url, jobs, guilds))
            children = [start_child(url, shard_ids, folder) for shard_ids in shard_lists]
            for child in children:
                assert child.stdout is not None
                line = child.stdout.readline().strip()
                if line != "ready":
                    raise SystemExit(f"a shard process did not start: {line!r}")
            started = time.perf_counter()
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            reports = []
            for child in children:
                out, _ = child.communicate(timeout=600)
                reports.append(json.loads(out.strip().splitlines()[-1]))
            seconds = time.perf_counter() - started
            delivered_rows = asyncio.run(count_delivered(url))
        finally:
            server.stop()
    sends = Counter(job for report in reports for job in report["sent"])
    fired = len(sends)
    return {
        "jobs": jobs,
        "fired": fired,
        "fired_twice": sum(count - 1 for count in sends.values()),
        "missed": jobs - min(fired, delivered_rows),
        "seconds": round(seconds, 3),
        "guilds": guilds,
        "processes": len(shard_lists),
        "shard_ids": [list(ids) for ids in shard_lists],
        "fired_per_process": [len(report["sent"]) for report in reports],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--guilds", type=int, default=2_000)
    parser.add_argument(
        "--shard-ids",
        nargs="+",
        default=None,
        help="per process, its shards as 0,1 (default: both processes run 0,1, overlapping)",
    )
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_child(args.child, tuple(int(shard) for shard in args.shard_ids), args.folder))
        return
    raw_lists = args.shard_ids or ["0,1", "0,1"]
    shard_lists = [tuple(int(shard) for shard in raw.split(",")) for raw in raw_lists]
    print(json.dumps(race(args.jobs, args.guilds, shard_lists)))


if __name__ == "__main__":
    main()
