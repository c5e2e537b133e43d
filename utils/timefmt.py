"""Time formatting for Discord messages and exports."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def discord_timestamp(moment: datetime, style: str = "f") -> str:
    """`<t:unix:style>`: every member sees it in their own local time."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def utc_iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


def local_iso(moment: datetime | None, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds") if moment else ""


def local_text(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
