"""The SQLite backend: the only code in Rollcall that talks to `sqlite3` and `aiosqlite`."""

from storage.sqlite.backend import SqliteDatabase

__all__ = ["SqliteDatabase"]
