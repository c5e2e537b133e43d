"""Typed times: each accepted form, each refusal, and the clock changes of the guild's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from utils.when import MAX_AHEAD, TimeRefused, parse_time, parse_window

NEW_YORK = "America/New_York"
# Friday 2027-03-12, 10:00 in New York (EST, UTC-5); clocks go forward on Sunday the 14th.
NOW = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)


def at(text: str, zone: str = NEW_YORK, now: datetime = NOW) -> datetime:
    return parse_time(text, zone_name=zone, now=now).moment


def local(moment: datetime, zone: str = NEW_YORK) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(
    ("typed", "expected_local"),
    [
        ("2027-03-20 19:00", "2027-03-20 19:00"),
        ("2027-03-20T19:00", "2027-03-20 19:00"),
        ("tomorrow 19:00", "2027-03-13 19:00"),
        ("7pm tomorrow", "2027-03-13 19:00"),
        ("next friday 18:30", "2027-03-19 18:30"),
        ("19:00", "2027-03-12 19:00"),
        ("13/04/2027 19:00", "2027-04-13 19:00"),
        ("  tomorrow   19:00 ", "2027-03-13 19:00"),
    ],
)
def test_wall_clock_forms_are_read_in_the_guild_zone(typed, expected_local):
    assert local(at(typed)) == expected_local


@pytest.mark.parametrize(
    ("typed", "after"),
    [
        ("in 2h", timedelta(hours=2)),
        ("2h", timedelta(hours=2)),
        ("in 1h30", timedelta(hours=1, minutes=30)),
        ("90 minutes", timedelta(minutes=90)),
        ("in 2 hours and 15 min", timedelta(hours=2, minutes=15)),
        ("in 3 days", timedelta(days=3)),
        ("in 2 days 3h", timedelta(days=2, hours=3)),
    ],
)
def test_durations_count_real_time_from_now(typed, after):
    assert at(typed) == NOW + after


def test_a_duration_across_spring_forward_is_real_elapsed_time():
    # 01:00 EST on the 14th; two real hours later the wall clock reads 04:00 EDT.
    before_change = datetime(2027, 3, 14, 6, 0, tzinfo=UTC)
    assert local(at("in 2h", now=before_change)) == "2027-03-14 04:00"


def test_an_explicit_zone_in_the_text_wins():
    assert at("19:00 UTC") == datetime(2027, 3, 12, 19, 0, tzinfo=UTC)
    assert at("tomorrow 19:00 +02:00") == datetime(2027, 3, 13, 17, 0, tzinfo=UTC)


def test_a_time_skipped_by_spring_forward_is_refused_with_the_time_that_exists():
    with pytest.raises(TimeRefused) as refused:
        at("2027-03-14 02:30")
    assert "does not exist in America/New_York" in refused.value.message
    assert "`2027-03-14 03:30`" in refused.value.message


def test_a_time_that_happens_twice_takes_the_first_with_a_note():
    typed = parse_time("2027-11-07 01:30", zone_name=NEW_YORK, now=NOW)
    assert typed.moment == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    assert typed.note is not None and "happens twice" in typed.note and "EDT" in typed.note


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "it is empty"),
        ("garbage", "no time of day"),
        ("friday", "no time of day"),
        ("19", "no time of day"),
        ("2027-02-30 10:00", "can't read it"),
        ("03/04/2027 19:00", "either way round"),
        ("in 99999 days", "more than two years"),
        ("x" * 150, "longer than 100"),
    ],
)
def test_refusals_say_why_show_examples_and_echo_the_input(typed, reason):
    with pytest.raises(TimeRefused) as refused:
        at(typed)
    message = refused.value.message
    assert reason in message
    assert "`tomorrow 19:00`" in message
    assert f"`{typed[:20]}" in message
    assert len(message) < 400


def test_a_backtick_in_the_input_cannot_break_the_quote():
    with pytest.raises(TimeRefused) as refused:
        at("tom`orrow")
    assert "`tom'orrow`" in refused.value.message


def test_window_end_forms_count_from_the_start():
    window = parse_window("tomorrow 19:00", "21:00", zone_name=NEW_YORK, now=NOW)
    assert local(window.starts_at) == "2027-03-13 19:00"
    assert local(window.ends_at) == "2027-03-13 21:00"
    assert parse_window("tomorrow 19:00", "2h", zone_name=NEW_YORK, now=NOW).ends_at == window.ends_at
    overnight = parse_window("tomorrow 23:00", "01:00", zone_name=NEW_YORK, now=NOW)
    assert local(overnight.ends_at) == "2027-03-14 01:00"


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("2027-03-20 19:00", "2027-03-20 19:00", "the end: it is not after the start"),
        ("2027-03-20 19:00", "2027-03-19 21:00", "the end: it is not after the start"),
        ("2027-03-11 19:00", "2027-03-11 21:00", "the start: that time has already passed"),
        ("2029-12-01 10:00", "11:00", "the start: that is more than two years away"),
    ],
)
def test_window_refusals(start, end, reason):
    with pytest.raises(TimeRefused) as refused:
        parse_window(start, end, zone_name=NEW_YORK, now=NOW)
    assert reason in refused.value.message


def test_window_notes_carry_the_fall_back_decision():
    window = parse_window("2027-11-07 01:30", "03:00", zone_name=NEW_YORK, now=NOW)
    assert len(window.notes) == 1


@given(
    wall=st.datetimes(min_value=datetime(2027, 3, 13), max_value=datetime(2029, 3, 1)),
    zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]),
)
def test_an_iso_wall_time_is_kept_or_refused_never_moved(wall, zone):
    wall = wall.replace(second=0, microsecond=0)
    try:
        moment = at(wall.strftime("%Y-%m-%d %H:%M"), zone=zone)
    except TimeRefused as refused:
        assert "does not exist" in refused.message
        return
    assert moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == wall
    assert moment - NOW < MAX_AHEAD
