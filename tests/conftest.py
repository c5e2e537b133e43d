"""Fixtures: a bot on a temporary database inside the fake Discord, and a restart helper."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from config import Settings
from tests.harness import FakeDiscord, Harness, World, boot_bot, shutdown_bot
from tests.harness.private import install_webhook_handler

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class ErrorLog(logging.Handler):
    """Errors in tree.on_error, views and modals only reach the log, so any ERROR fails the test."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.expected = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @contextmanager
    def expect(self, count: int = 1) -> Iterator[list[logging.LogRecord]]:
        before = len(self.records)
        self.expected += count
        seen: list[logging.LogRecord] = []
        yield seen
        seen.extend(self.records[before:])
        assert len(seen) == count, f"expected {count} logged error(s), got {[r.getMessage() for r in seen]}"


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
    unexpected = len(handler.records) - handler.expected
    if unexpected:
        details = "\n".join(
            f"{r.name}: {r.getMessage()}\n{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
            for r in handler.records
        )
        pytest.fail(f"{unexpected} unexpected error(s) were logged:\n{details}")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def discord_side() -> Iterator[FakeDiscord]:
    side = FakeDiscord()
    undo_webhook = install_webhook_handler(side.webhook_request)
    try:
        yield side
    finally:
        undo_webhook()
    assert not side.unknown_calls, f"the bot called endpoints the harness does not model: {side.unknown_calls}"


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "rollcall.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(token="test-token", database_path=db_path)


class Running:
    """The bot under test; `restart()` closes it and builds a new one on the same database."""

    def __init__(self, settings: Settings, side: FakeDiscord, world: World, clock: ManualClock) -> None:
        self.settings = settings
        self.side = side
        self.world = world
        self.clock = clock
        self.harness: Harness | None = None

    async def start(self) -> Harness:
        _, self.harness = await boot_bot(self.settings, self.side, self.world, self.clock)
        return self.harness

    async def stop(self) -> None:
        if self.harness is not None:
            await shutdown_bot(self.harness.bot)
            self.harness = None

    async def restart(self) -> Harness:
        await self.stop()
        return await self.start()


@pytest.fixture
async def running(
    settings: Settings, discord_side: FakeDiscord, world: World, clock: ManualClock, error_log: ErrorLog
) -> AsyncIterator[Running]:
    runner = Running(settings, discord_side, world, clock)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


@pytest.fixture
def h(running: Running) -> Harness:
    assert running.harness is not None
    return running.harness


@pytest.fixture
def restart(running: Running) -> Callable[[], Awaitable[Harness]]:
    return running.restart
