"""The process's heartbeat: a file the bot rewrites every `HEARTBEAT_SECONDS` while it is
connected, which `python main.py healthcheck` (Docker's HEALTHCHECK) reads. The bot has no HTTP
server to probe; a fresh file says its event loop and its scheduler are running and Discord's
READY has arrived. A hung loop, a dead scheduler or a process that never connected leave it stale.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config import Settings

HEARTBEAT_JOB = "bot.heartbeat"
HEARTBEAT_SECONDS = 30
# Three missed beats: one slow beat is not an outage.
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)


def heartbeat_path(settings: Settings) -> Path:
    """Beside the database file (`data/heartbeat` by default); shard processes sharing a data
    folder each write their own (`data/heartbeat-shards-0-1`)."""
    folder = settings.database_path.parent
    if settings.shard_ids is None and settings.shard_count == 1:
        return folder / "heartbeat"
    ids = settings.shard_ids if settings.shard_ids is not None else tuple(range(settings.shard_count))
    return folder / ("heartbeat-shards-" + "-".join(str(shard) for shard in ids))


def write_heartbeat(path: Path, now: datetime) -> None:
    """Replace the file atomically, so the health check never reads half a line. The scratch
    file's name is unique, so two processes beating into the same file never trip each other."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as scratch_file:
            scratch_file.write(now.astimezone(UTC).isoformat() + "\n")
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


def heartbeat_age(path: Path, now: datetime) -> timedelta | None:
    """How old the last beat is at `now`; None when there is no readable beat."""
    try:
        beat = datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    if beat.tzinfo is None:
        return None
    return now - beat
