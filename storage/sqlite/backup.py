"""An online backup of the SQLite file with SQLite's own backup API.

The copy is taken in one step (`pages=-1`) inside one read transaction: in WAL mode a reader
does not block the bot's writers, and everything the copy holds is the database as of one
instant, so it is consistent even while the bot writes. (Copying in several steps would restart
from scratch each time another connection writes, which under a busy bot may never end.)
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from storage.errors import BackupFailed

# How long to wait for a lock the backup's read cannot start without (a checkpoint in progress).
BACKUP_BUSY_TIMEOUT_SECONDS = 10.0


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy the database at `source` to `target` and check the copy; returns its size in bytes.

    The copy is written next to `target` and moved into place only once it passed
    `PRAGMA integrity_check`, so `target` is never a half-written file."""
    if not source.is_file():
        raise BackupFailed(f"{source} does not exist, so there is nothing to back up")
    scratch = target.with_name(f".{target.name}.partial")
    try:
        origin = sqlite3.connect(source, timeout=BACKUP_BUSY_TIMEOUT_SECONDS)
    except sqlite3.Error as error:
        raise BackupFailed(f"{source} cannot be opened ({error})") from None
    try:
        scratch.unlink(missing_ok=True)
        copy = sqlite3.connect(scratch)
        try:
            origin.backup(copy, pages=-1)
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            # A backup is one file: no WAL beside it to lose when the file is copied elsewhere.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        if verdict != "ok":
            raise BackupFailed(f"the copy failed its integrity check ({verdict})")
        os.replace(scratch, target)
    except sqlite3.Error as error:
        raise BackupFailed(f"{source} could not be copied ({error})") from None
    except OSError as error:
        raise BackupFailed(f"{target} cannot be written ({error.strerror or error})") from None
    finally:
        origin.close()
        scratch.unlink(missing_ok=True)
    return target.stat().st_size
