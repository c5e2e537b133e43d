"""Rows into frozen dataclasses, with instants read back as aware UTC datetimes."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from storage.backend import Row

T = TypeVar("T")


def instant(value: datetime | str | None) -> datetime | None:
    """An instant as a backend hands it back, as an aware UTC datetime.

    Drivers with a time type (asyncpg's timestamptz) return a datetime; SQLite has none, so its
    backend stores ISO-8601 text with the UTC offset, which reads back here."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"stored instant {value!r} has no UTC offset")
    return moment.astimezone(UTC)


@cache
def _instant_fields(cls: type) -> tuple[str, ...]:
    hints = typing.get_type_hints(cls)
    return tuple(
        field.name
        for field in dataclasses.fields(cls)
        if hints[field.name] is datetime
        or (isinstance(hints[field.name], types.UnionType) and datetime in typing.get_args(hints[field.name]))
    )


def from_row(cls: type[T], row: Row, **known: Any) -> T:
    """Build a frozen dataclass from a row whose column names match its fields. Fields typed
    `datetime` are read as instants; `known` gives fields the caller decoded itself."""
    values = {
        field.name: known[field.name] if field.name in known else row[field.name]
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    for name in _instant_fields(cls):
        if name not in known:
            values[name] = instant(values[name])
    return cls(**values)
