"""The one CSV writer of the project: UTF-8 with a BOM (so Excel shows names correctly), a header
row, every time as ISO-8601 UTC beside the guild-local time, and cells neutralised against
formula injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from utils.timefmt import local_iso, utc_iso

T = TypeVar("T")

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


class CsvBuilder:
    """The writer in pieces, for an export written chunk by chunk: the header is checked and
    written first, then each `add` appends rows under the same rules as `build_csv`."""

    def __init__(self, header: Sequence[str]) -> None:
        self.header = tuple(header)
        _check_time_pairs(self.header)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._writer.writerow(self.header)

    def add(self, rows: Iterable[Sequence[object]]) -> None:
        width = len(self.header)
        for row in rows:
            if isinstance(row, str) or len(row) != width:
                raise ValueError(f"a CSV row has {len(row)} cells for {width} columns")
            self._writer.writerow([neutralize(cell) for cell in row])

    def data(self) -> bytes:
        return self._buffer.getvalue().encode("utf-8-sig")


def build_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    builder = CsvBuilder(header)
    builder.add(rows)
    return builder.data()


@dataclass(frozen=True, slots=True)
class Table(Generic[T]):
    """An export before it is written: its header, its items and how one item becomes a row, so
    a large one can be written (rows formatted too) a chunk at a time."""

    header: tuple[str, ...]
    items: Sequence[T]
    row_of: Callable[[T], Sequence[object]]

    def build(self) -> bytes:
        return build_csv(self.header, map(self.row_of, self.items))


def _check_time_pairs(header: tuple[str, ...]) -> None:
    # A UTC column without its local twin is the mistake this writer exists to stop: the person
    # reading the sheet thinks in the guild's time zone.
    names = set(header)
    for name in header:
        if name.endswith("_utc") and f"{name[:-4]}_local" not in names:
            raise ValueError(f"CSV column {name!r} has no {name[:-4]}_local beside it")
