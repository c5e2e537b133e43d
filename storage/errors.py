"""The storage errors repositories and the bot catch; each backend maps its driver's errors to these."""

from __future__ import annotations

from pathlib import Path


class UniqueViolation(Exception):
    """A write would duplicate a UNIQUE or PRIMARY KEY value; nothing of that statement was written."""


class DatabaseBusy(Exception):
    """Another connection (a backup, the sqlite3 shell, a second process) kept the write lock
    for longer than the hot-path writer waits; nothing was written."""


class DatabaseOpenError(Exception):
    """The database cannot be opened or is not a database of the backend's kind; nothing is left open.
    `path` is the SQLite file, or the PostgreSQL URL without its password."""

    def __init__(self, path: Path | str, reason: str, *, not_a_database: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        # The file opened but holds something else (a text file, an encrypted database).
        self.not_a_database = not_a_database


class MigrationFailed(Exception):
    """A migration could not be applied (the database holds something else); none of them was kept."""


class BackupFailed(Exception):
    """A backup could not be made; the message says why, and no file was left at the target."""
