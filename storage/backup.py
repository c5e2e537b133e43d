"""Backups of the SQLite database, for `python main.py backup PATH`.

PostgreSQL has its own tool for this (`pg_dump -Fc`, see the README); Rollcall does not wrap it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from storage.errors import BackupFailed
from storage.sqlite.backup import backup_sqlite

__all__ = ["BackupFailed", "backup_sqlite_file"]


async def backup_sqlite_file(source: Path, target: Path) -> int:
    """An online, consistent copy of the SQLite database at `source` in `target` (which the
    caller has checked may be written), checked with `PRAGMA integrity_check`; returns its size
    in bytes. Safe while the bot writes to `source`. Raises `BackupFailed`."""
    return await asyncio.to_thread(backup_sqlite, source, target)
