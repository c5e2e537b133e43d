"""What the roll-call benches share: a bot on the harness's fake Discord, a hall of students
who join after start-up, and the probes that watch the event loop and the garbage collector.

Everything the benches take from the test harness is imported here, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import discord

from bot.clock import ManualClock
from bot.heap import freeze_heap_at_ready
from config import Settings
from storage.attendance import AttendanceSession
from tests.harness import FakeDiscord, Harness, UserSpec, World, boot_bot, shutdown_bot
from tests.harness.private import connection_state, install_webhook_handler
from tests.harness.voice import deliver, voice_state_update
from tests.harness.world import VoiceStateSpec
from utils.codes import window_at, window_code

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
T = TypeVar("T")
STUDENT_ID_BASE = 1_250_000_000_000_000_000
# The voice channel a `--voice` roll call tracks (one of the harness world's).
VOICE_CHANNEL = "lecture-voice"

__all__ = [
    "POLL_SECONDS",
    "RESPONSE_TIMEOUT_SECONDS",
    "START",
    "STUDENT_ID_BASE",
    "VOICE_CHANNEL",
    "BenchBot",
    "ErrorCount",
    "FakeDiscord",
    "GcPauses",
    "Harness",
    "LoopProbe",
    "boot_hall",
    "burst_latencies_ms",
    "current_code",
    "install_no_op_submission_write",
    "percentile",
    "shutdown_bot",
    "wait_for_responses",
]


class _NothingWritten:
    """Stands in for the batch's transaction: every session is open, every row lands."""

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any]:
        # The open session's row: a plain roll call, tied to no event.
        return {"event_id": None}

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return 1

    async def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return len(rows)


def install_no_op_submission_write(bot: discord.Client) -> None:
    """The floor: every layer of the /here path runs, including the group committer's own
    decision code, except that its batch write (`Database.write_batch`, the lowest level an
    accepted answer goes through) runs against a transaction that touches no database."""
    nothing_written = _NothingWritten()

    async def write_nothing(work: Callable[[Any], Awaitable[T]]) -> T:
        return await work(nothing_written)

    bot.db.write_batch = write_nothing  # type: ignore[attr-defined]


# How long a bench waits for every recorded response, polling the fake Discord's record.
RESPONSE_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.005


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def wait_for_responses(side: FakeDiscord, expected: int) -> None:
    """Until the fake Discord recorded `expected` initial responses in all, or the timeout."""
    deadline = time.perf_counter() + RESPONSE_TIMEOUT_SECONDS
    while len(side.response_times) < expected and time.perf_counter() < deadline:
        await asyncio.sleep(POLL_SECONDS)


async def burst_latencies_ms(h: Harness, side: FakeDiscord, payloads: list[dict[str, Any]]) -> list[float]:
    """Hand every payload to discord.py's parser at one instant, without yielding (a burst
    already buffered on the gateway socket), and return each answered interaction's latency
    from that instant to its recorded initial response."""
    interaction_ids = [int(payload["id"]) for payload in payloads]
    expected = len(side.response_times) + len(payloads)
    arrival = time.perf_counter()
    for payload in payloads:
        h.dispatch_nowait(payload)
    await wait_for_responses(side, expected)
    await h.idle()
    return [
        (side.response_times[interaction_id] - arrival) * 1000
        for interaction_id in interaction_ids
        if interaction_id in side.response_times
    ]


class ErrorCount(logging.Handler):
    """Errors in command handlers only reach the log; each one counts as an error."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class GcPauses:
    """Every garbage collection between `start` and `stop`, timed with `gc.callbacks`."""

    def __init__(self) -> None:
        self.pauses_ms: list[tuple[int, float]] = []
        self.cpu_ms = 0.0
        self._began: float | None = None
        self._began_cpu = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            self._began_cpu = time.thread_time()
        elif self._began is not None:
            self.pauses_ms.append((info["generation"], (time.perf_counter() - self._began) * 1000))
            self.cpu_ms += (time.thread_time() - self._began_cpu) * 1000
            self._began = None

    def start(self) -> None:
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def figures(self) -> dict[str, Any]:
        full = [ms for generation, ms in self.pauses_ms if generation == 2]
        return {
            "gc_pauses_ms_total": round(sum(ms for _, ms in self.pauses_ms), 1),
            "gc_pause_max_ms": round(max((ms for _, ms in self.pauses_ms), default=0.0), 1),
            "gc_collections": len(self.pauses_ms),
            "gc_full_collections": len(full),
            "gc_full_pauses_ms_total": round(sum(full), 1),
            # The same pauses in CPU time: what the collector did, whoever else shared the CPU.
            "gc_cpu_ms_total": round(self.cpu_ms, 1),
        }


class LoopProbe:
    """A task that asks to wake every millisecond and records how late each wake-up was:
    the longest lateness is the longest the event loop was blocked (heartbeats included).

    `exclude` removes an interval the bench itself spent (handing a whole burst to the
    parser at once) from the lateness of the wake-ups it overlaps."""

    PERIOD_SECONDS = 0.001

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []
        self._task: asyncio.Task[None] | None = None
        self._excluded: list[tuple[float, float]] = []

    async def _run(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.PERIOD_SECONDS)
            self.samples.append((asked + self.PERIOD_SECONDS, time.perf_counter()))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bench-loop-probe")

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def exclude(self, began: float, ended: float) -> None:
        self._excluded.append((began, ended))

    def blocked_max_ms(self) -> float:
        worst = 0.0
        for due, woke in self.samples:
            late = woke - due
            for began, ended in self._excluded:
                late -= max(0.0, min(woke, ended) - max(due, began))
            worst = max(worst, late)
        return round(worst * 1000, 1)


@dataclass
class BenchBot:
    """A booted bot with an open roll call and a hall of students who joined after start-up."""

    harness: Harness
    side: FakeDiscord
    clock: ManualClock
    session: AttendanceSession
    student_ids: list[int] = field(default_factory=list)

    @property
    def bot(self) -> discord.Client:
        return self.harness.bot

    def here_payloads(self) -> list[dict[str, Any]]:
        """One `/here` with the current code per student, in the attendance channel."""
        h = self.harness
        code = current_code(self.session, self.clock)
        channel = h.channel("attendance")
        guild = h.guild
        return [
            h.command_payload("here", user=guild.get_member(student_id), channel=channel, code=code)
            for student_id in self.student_ids
        ]

    def voice_events(self, members: int) -> list[Callable[[], None]]:
        """`members` students each joining the tracked voice channel and, later, leaving it: one
        VOICE_STATE_UPDATE each through discord.py's parser, joins first, leaves after."""
        state = connection_state(self.bot)
        world = self.harness.discord.world
        tracked = VoiceStateSpec(world.channel_named(VOICE_CHANNEL).id)
        specs = [world.member(student_id) for student_id in self.student_ids[:members]]

        # Payloads built now, as `here_payloads` are: the burst only hands them over.
        def event(spec: UserSpec | None, after: VoiceStateSpec | None) -> Callable[[], None]:
            assert spec is not None
            data = voice_state_update(world, spec, after)
            return lambda: deliver(state, world, data)

        joins = [event(spec, tracked) for spec in specs]
        leaves = [event(spec, None) for spec in specs]
        return joins + leaves


def current_code(session: AttendanceSession, clock: ManualClock) -> str:
    window = window_at(session.opened_at, session.interval_seconds, clock.now())
    return window_code(session.secret, window, session.code_length)


def install_fake_webhook(side: FakeDiscord) -> None:
    """Interaction responses go through the webhook adapter, not bot.http (see tests/conftest.py)."""
    install_webhook_handler(side.webhook_request)


async def boot_hall(
    database_path: Path,
    students: int,
    side: FakeDiscord | None = None,
    *,
    database_url: str | None = None,
    voice: bool = False,
) -> BenchBot:
    """Boot the bot as production does: setup_hook on an empty server, then READY, then the
    students arrive with the guild (GUILD_CREATE, no join events), then discord.py's `ready`.
    An admin configures the server and opens a roll call in the attendance channel. With
    `database_url` the bot runs on that PostgreSQL database instead of the SQLite file; with
    `voice` the roll call tracks presence in the world's voice channel."""
    side = side or FakeDiscord()
    install_fake_webhook(side)
    clock = ManualClock(START)
    settings = Settings(token="bench", database_path=database_path, database_url=database_url)
    student_ids = [STUDENT_ID_BASE + i for i in range(students)]
    world = World()
    world.add_users(
        UserSpec(f"student{student_id - STUDENT_ID_BASE:05d}", student_id, ("Student",)) for student_id in student_ids
    )
    bot, h = await boot_bot(settings, side, world, clock, prepare=freeze_heap_at_ready)
    config = await h.command(
        "config set", user="admin", attendance_channel=h.channel("attendance"), admin_channel=h.channel("admin")
    )
    assert "Saved" in config.text, config.text
    options: dict[str, Any] = {}
    if voice:
        options["voice"] = discord.utils.get(h.guild.channels, name=VOICE_CHANNEL)
    opened = await h.command("attendance open", user="admin", channel="admin", **options)
    assert "is open" in opened.text, opened.text
    session = await bot.attendance.get_latest(h.guild.id)
    assert session is not None
    return BenchBot(h, side, clock, session, student_ids)
