"""The bounds and statuses of utils/limits.py are the ones the database, the options and the
choices enforce: changing one without the others fails here."""

from __future__ import annotations

import re

import pytest
from discord import app_commands

from storage.guild_config import GuildConfig
from storage.outbox import DELIVERED, PENDING, UNDELIVERABLE
from utils.limits import (
    CODE_INTERVAL,
    CODE_LENGTH,
    EVENT_ATTENDANCE_SOURCES,
    EVENT_CAPACITY,
    EVENT_DESCRIPTION,
    EVENT_LOCATION,
    EVENT_TIMER_KINDS,
    EVENT_TITLE,
    GRACE,
    LATE_AFTER,
    NUDGE_MINUTES,
    PRESET_DESCRIPTION,
    PRESET_NAME,
    RECORD_STATUSES,
    REVIEW_COMMENT,
    REVIEW_RATING,
    ROLL_CALL_DURATION,
    RSVP_STATUSES,
    SERIES_COUNT,
    SERIES_EVERY_DAYS,
    SERIES_FINISH_REASONS,
    SESSION_STATUSES,
    SLOT_NAME,
    SLOT_SEATS,
    SLOT_SIGNUP_STATUSES,
    VERIFICATION_TIMEOUT,
    Limit,
)
from utils.recurrence import SERIES_RULES

CheckValue = tuple[int, int | None] | tuple[str, ...]

_CHECK = re.compile(r"CHECK \((?P<rule>.*)\)")
_AT_LEAST = re.compile(r"(?P<column>\w+) >= (?P<low>-?\d+)")
_BETWEEN = re.compile(r"(?P<column>\w+|length\(\w+\)) BETWEEN (?P<low>-?\d+) AND (?P<high>-?\d+)")
# A row rule between two columns (an end after its start): compared as the rule itself.
_AFTER = re.compile(r"(?P<column>\w+) > (?P<other>\w+)")
_ONE_OF = re.compile(r"(?P<column>\w+) IN \((?P<values>[^)]*)\)")


def _parse_check(rule: str) -> tuple[str, CheckValue]:
    if match := _BETWEEN.fullmatch(rule):
        return match["column"], (int(match["low"]), int(match["high"]))
    if match := _AT_LEAST.fullmatch(rule):
        return match["column"], (int(match["low"]), None)
    if match := _AFTER.fullmatch(rule):
        return match["column"], (">", match["other"])
    if match := _ONE_OF.fullmatch(rule):
        return match["column"], tuple(value.strip().strip("'") for value in match["values"].split(","))
    raise AssertionError(f"a CHECK this test does not know how to compare with utils/limits.py: {rule}")


async def _schema_checks(h) -> dict[tuple[str, str], CheckValue]:
    rows = await h.bot.db.fetch_all("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")
    checks: dict[tuple[str, str], CheckValue] = {}
    for row in rows:
        for line in row["sql"].splitlines():
            match = _CHECK.search(line.strip().rstrip(","))
            if match:
                column, value = _parse_check(match["rule"])
                checks[(row["name"], column)] = value
    return checks


def _at_least(limit: Limit) -> tuple[int, None]:
    return limit.low, None


@pytest.mark.sqlite_only("reads the CHECKs from sqlite_master; test_postgres_backend pins PostgreSQL's to these")
async def test_every_sql_check_of_a_migrated_database_matches_utils_limits(h):
    assert await _schema_checks(h) == {
        ("guild_config", "code_interval_seconds"): _at_least(CODE_INTERVAL),
        ("guild_config", "code_length"): CODE_LENGTH.bounds,
        ("guild_config", "grace_seconds"): _at_least(GRACE),
        ("guild_config", "late_after_minutes"): _at_least(LATE_AFTER),
        ("guild_config", "verification_timeout_minutes"): _at_least(VERIFICATION_TIMEOUT),
        ("attendance_session", "interval_seconds"): _at_least(CODE_INTERVAL),
        ("attendance_session", "code_length"): CODE_LENGTH.bounds,
        ("attendance_session", "grace_seconds"): _at_least(GRACE),
        ("attendance_session", "late_after_minutes"): _at_least(LATE_AFTER),
        ("attendance_session", "status"): SESSION_STATUSES,
        ("attendance_record", "status"): RECORD_STATUSES,
        ("outbox", "status"): (PENDING, DELIVERED, UNDELIVERABLE),
        ("event", "length(title)"): EVENT_TITLE.bounds,
        ("event", "length(description)"): EVENT_DESCRIPTION.bounds,
        ("event", "length(location)"): EVENT_LOCATION.bounds,
        ("event", "capacity"): EVENT_CAPACITY.bounds,
        ("event", "ends_at"): (">", "starts_at"),
        ("event_rsvp", "status"): RSVP_STATUSES,
        ("event_attendance", "source"): EVENT_ATTENDANCE_SOURCES,
        ("event_timer", "kind"): EVENT_TIMER_KINDS,
        ("event_reminder_setting", "nudge_minutes"): NUDGE_MINUTES.bounds,
        ("event_series", "rule"): SERIES_RULES,
        ("event_series", "every_days"): SERIES_EVERY_DAYS.bounds,
        ("event_series", "max_count"): SERIES_COUNT.bounds,
        ("event_series", "finished_reason"): SERIES_FINISH_REASONS,
        ("event_review", "rating"): REVIEW_RATING.bounds,
        ("event_review", "length(comment)"): REVIEW_COMMENT.bounds,
        ("preset", "length(name)"): PRESET_NAME.bounds,
        ("preset", "length(description)"): PRESET_DESCRIPTION.bounds,
        ("preset_slot", "length(name)"): SLOT_NAME.bounds,
        ("preset_slot", "seats"): SLOT_SEATS.bounds,
        ("event_slot", "length(name)"): SLOT_NAME.bounds,
        ("event_slot", "seats"): SLOT_SEATS.bounds,
        ("event_slot_signup", "status"): SLOT_SIGNUP_STATUSES,
    }


def _option(h, path: str, name: str) -> app_commands.Parameter:
    command = h.bot.tree.get_command(path.split()[0])
    for part in path.split()[1:]:
        command = command.get_command(part)
    assert command is not None, path
    return next(parameter for parameter in command.parameters if parameter.name == name)


async def test_slash_option_bounds_are_the_limits(h):
    expected = {
        ("attendance open", "interval"): CODE_INTERVAL,
        ("attendance open", "length"): CODE_LENGTH,
        ("attendance open", "duration"): ROLL_CALL_DURATION,
        ("config set", "code_interval"): CODE_INTERVAL,
        ("config set", "code_length"): CODE_LENGTH,
        ("config set", "grace_seconds"): GRACE,
        ("config set", "late_after_minutes"): LATE_AFTER,
        ("config set", "verification_timeout_minutes"): VERIFICATION_TIMEOUT,
    }
    for (path, name), limit in expected.items():
        option = _option(h, path, name)
        assert (option.min_value, option.max_value) == limit.bounds, (path, name)


async def test_mark_offers_exactly_the_record_statuses(h):
    choices = _option(h, "attendance mark", "status").choices
    assert [choice.value for choice in choices] == list(RECORD_STATUSES)


def test_the_default_settings_lie_within_the_limits():
    defaults = GuildConfig(guild_id=1)
    for value, limit in (
        (defaults.code_interval_seconds, CODE_INTERVAL),
        (defaults.code_length, CODE_LENGTH),
        (defaults.grace_seconds, GRACE),
        (defaults.late_after_minutes, LATE_AFTER),
        (defaults.verification_timeout_minutes, VERIFICATION_TIMEOUT),
    ):
        assert limit.low <= value <= limit.high
