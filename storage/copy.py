"""Copying an SQLite database into an empty PostgreSQL one (`python main.py migrate-to-postgres`).

Both are first migrated to the same version, so their tables and columns match. Every table
is copied in one PostgreSQL transaction (all of it or nothing), parents before the tables whose
foreign keys point at them, with every id kept; each identity sequence is then moved past the
largest id copied, so the next insert gets a fresh one. Row counts are compared per table
afterwards. The source is read in one transaction, so the copy is one consistent moment of it;
the bot should be stopped meanwhile, or its later writes stay behind in SQLite.

Table and column names cannot be bound as parameters, so the statements here are built from
names read from the databases' own catalogs (never from input) and always quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.backend import Database, Transaction
from storage.rows import instant

# PostgreSQL's own bookkeeping of applied migrations: written by `migrate`, not copied.
MIGRATIONS_TABLE = "schema_migrations"
INSERT_BATCH_ROWS = 1000


class CopyRefused(Exception):
    """The copy cannot start (the target is not empty, the schemas differ); nothing was written."""


class CopyMismatch(Exception):
    """After the copy a table's row count differs between the two databases."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    table: str
    source_rows: int
    target_rows: int


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    data_type: str
    is_identity: bool


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def _sqlite_columns(source: Database) -> dict[str, list[str]]:
    tables = await source.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )
    columns: dict[str, list[str]] = {}
    for row in tables:
        described = await source.fetch_all("SELECT name FROM pragma_table_info(?) ORDER BY cid", (row["name"],))
        columns[row["name"]] = [column["name"] for column in described]
    return columns


async def _postgres_columns(target: Database) -> dict[str, list[_Column]]:
    rows = await target.fetch_all(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_identity FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> ? "
        "ORDER BY c.table_name, c.ordinal_position",
        (MIGRATIONS_TABLE,),
    )
    columns: dict[str, list[_Column]] = {}
    for row in rows:
        columns.setdefault(row["table_name"], []).append(
            _Column(row["column_name"], row["data_type"], row["is_identity"] == "YES")
        )
    return columns


async def _parents_first(target: Database, tables: Sequence[str]) -> list[str]:
    """`tables` ordered so a table comes after every other table its foreign keys point at."""
    edges = await target.fetch_all(
        "SELECT child.relname AS child, parent.relname AS parent FROM pg_constraint k "
        "JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid "
        "WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace"
    )
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for edge in edges:
        if edge["child"] in parents and edge["parent"] in parents and edge["child"] != edge["parent"]:
            parents[edge["child"]].add(edge["parent"])
    ordered: list[str] = []
    while parents:
        ready = sorted(table for table, needs in parents.items() if not needs - set(ordered))
        if not ready:
            raise CopyRefused(f"the foreign keys of {', '.join(sorted(parents))} form a cycle")
        for table in ready:
            ordered.append(table)
            del parents[table]
    return ordered


def _converter(data_type: str) -> Any:
    """How an SQLite value becomes the value PostgreSQL's column type takes."""
    if data_type == "timestamp with time zone":
        return instant
    if data_type == "boolean":
        return lambda value: None if value is None else bool(value)
    if data_type == "bytea":
        return lambda value: None if value is None else bytes(value)
    return lambda value: value


async def _count(reader: Database | Transaction, table: str) -> int:
    return int(await reader.fetch_value("SELECT COUNT(*) FROM " + _quoted(table)))  # noqa: S608 - a catalog name


async def copy_sqlite_to_postgres(source: Database, target: Database) -> list[TableCopy]:
    """Copy every table of the migrated SQLite `source` into the migrated, empty PostgreSQL
    `target`; returns the row counts per table. Raises `CopyRefused` before writing anything
    when the target is not empty or the two schemas differ, `CopyMismatch` when a count differs
    afterwards."""
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise CopyRefused(f"the SQLite database is at version {source_version}, PostgreSQL at {target_version}")
    source_columns = await _sqlite_columns(source)
    target_columns = await _postgres_columns(target)
    if set(source_columns) != set(target_columns):
        differ = sorted(set(source_columns) ^ set(target_columns))
        raise CopyRefused(f"the two databases' tables differ ({', '.join(differ)})")
    for table, columns in target_columns.items():
        if {column.name for column in columns} != set(source_columns[table]):
            raise CopyRefused(f"the columns of table {table} differ between the two databases")
    for table in sorted(target_columns):
        rows = await _count(target, table)
        if rows:
            raise CopyRefused(f"it is not empty (table {table} has {rows} rows)")

    ordered = await _parents_first(target, list(target_columns))
    copied: dict[str, int] = {}
    async with source.transaction() as reading, target.transaction() as writing:
        for table in ordered:
            columns = target_columns[table]
            names = ", ".join(_quoted(column.name) for column in columns)
            rows = await reading.fetch_all(f"SELECT {names} FROM {_quoted(table)}")  # noqa: S608 - catalog names
            converters = [_converter(column.data_type) for column in columns]
            values = [tuple(convert(row[i]) for i, convert in enumerate(converters)) for row in rows]
            insert = f"INSERT INTO {_quoted(table)} ({names}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
            for start in range(0, len(values), INSERT_BATCH_ROWS):
                await writing.execute_many(insert, values[start : start + INSERT_BATCH_ROWS])
            copied[table] = len(values)
            for column in columns:
                if column.is_identity and values:
                    position = columns.index(column)
                    largest = max(row[position] for row in values)
                    await writing.fetch_value(
                        "SELECT setval(pg_get_serial_sequence(?, ?), ?)", (_quoted(table), column.name, largest)
                    )

    report = [TableCopy(table, copied[table], await _count(target, table)) for table in sorted(copied)]
    for line in report:
        if line.source_rows != line.target_rows or line.source_rows != await _count(source, line.table):
            raise CopyMismatch(
                f"table {line.table} has {line.source_rows} rows in SQLite but {line.target_rows} in PostgreSQL"
            )
    return report
