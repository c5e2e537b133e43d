"""IANA time zone names: validation and search for autocomplete."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones


@cache
def all_timezones() -> tuple[str, ...]:
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def is_timezone(name: str) -> bool:
    return name in all_timezones()


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def search_timezones(text: str, limit: int = 25) -> list[str]:
    """Names containing `text` (case-insensitive, spaces match underscores), prefix matches first."""
    needle = text.strip().lower().replace(" ", "_")
    if not needle:
        return list(all_timezones()[:limit])
    starts = [name for name in all_timezones() if name.lower().startswith(needle)]
    starts_city = [name for name in all_timezones() if name.lower().split("/")[-1].startswith(needle)]
    contains = [name for name in all_timezones() if needle in name.lower()]
    ordered = list(dict.fromkeys(starts + starts_city + contains))
    return ordered[:limit]
