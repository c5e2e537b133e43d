"""Fixtures: a bot on a temporary database inside the fake Discord, and a restart helper.

`--backend postgres` puts every bot and `db` of a test on a fresh PostgreSQL database of an
embedded server started once for the session (only when a test asks for one); the default is an
SQLite file. `make test` runs the suite once on each. Marks: `sqlite_only("why")` for tests of
SQLite itself, `postgres_only` for tests of the PostgreSQL backend.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from config import Settings
from storage.backend import Database
from storage.database import open_database
from tests.harness import FakeDiscord, Harness, World, boot_bot, shutdown_bot
from tests.harness.boot import crash_bot
from tests.harness.private import install_webhook_handler
from tests.postgres_server import EmbeddedPostgres

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BACKENDS = ("sqlite", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        default="sqlite",
        help="the database every bot and `db` fixture runs on (PostgreSQL: an embedded server)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): a test of SQLite itself, skipped on PostgreSQL")
    config.addinivalue_line("markers", "postgres_only: a test of the PostgreSQL backend, run with --backend postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    backend = config.getoption("--backend")
    for item in items:
        sqlite_only = item.get_closest_marker("sqlite_only")
        if backend == "postgres" and sqlite_only is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {sqlite_only.args[0]}"))
        if backend == "sqlite" and item.get_closest_marker("postgres_only") is not None:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only: run with --backend postgres (make test does)"))


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


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    # Not under pytest's basetemp: every pytest session starting on this machine makes
    # /tmp/pytest-of-<user> private again, and the server's own system user would lose its data.
    folder = Path(tempfile.mkdtemp(prefix="rollcall-postgres-"))
    server = EmbeddedPostgres(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres(backend: str, request: pytest.FixtureRequest) -> EmbeddedPostgres | None:
    """The session's server on `--backend postgres` (started by the first test that needs it)."""
    return request.getfixturevalue("postgres_server") if backend == "postgres" else None


@pytest.fixture
async def database_url(postgres: EmbeddedPostgres | None) -> str | None:
    """An empty, migrated PostgreSQL database for this test, or None on SQLite."""
    return None if postgres is None else await postgres.reset_shared_database()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "rollcall.db"


@pytest.fixture
def settings(db_path: Path, database_url: str | None) -> Settings:
    return Settings(token="test-token", database_path=db_path, database_url=database_url)


@pytest.fixture
async def db(db_path: Path, database_url: str | None) -> AsyncIterator[Database]:
    """An open, migrated database of the selected backend, without a bot."""
    database = await open_database(database_url or db_path)
    await database.migrate()
    try:
        yield database
    finally:
        await database.close()


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

    async def crash(self) -> None:
        """The process dies: nothing it would do on a clean shutdown happens."""
        if self.harness is not None:
            await crash_bot(self.harness.bot)
            self.harness = None


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
