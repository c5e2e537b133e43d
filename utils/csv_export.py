"""The one CSV writer of the project: UTF-8 with a BOM (so Excel shows names correctly), a header
row, every time as ISO-8601 UTC beside the guild-local time, and cells neutralised against
formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from utils.timefmt import local_iso, utc_iso

# Leading characters spreadsheets treat as a formula (OWASP's list: =, +, -, @, tab, CR).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def time_header(name: str) -> tuple[str, str]:
    """The two columns of one moment: `<name>_utc` and `<name>_local`."""
    return f"{name}_utc", f"{name}_local"


def time_cells(moment: datetime | None, timezone: str) -> tuple[str, str]:
    """One moment as the two cells `time_header` names: UTC first, then the guild's local time."""
    return utc_iso(moment), local_iso(moment, timezone)


def build_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    header = tuple(header)
    _check_time_pairs(header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        if isinstance(row, str) or len(row) != len(header):
            raise ValueError(f"a CSV row has {len(row)} cells for {len(header)} columns")
        writer.writerow([neutralize(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def _check_time_pairs(header: tuple[str, ...]) -> None:
    # A UTC column without its local twin is the mistake this writer exists to stop: the person
    # reading the sheet thinks in the guild's time zone.
    names = set(header)
    for name in header:
        if name.endswith("_utc") and f"{name[:-4]}_local" not in names:
            raise ValueError(f"CSV column {name!r} has no {name[:-4]}_local beside it")
