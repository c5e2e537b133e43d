"""/event list (filters, pages, page buttons after a restart), the `event` option's
autocomplete, and the typed days its `from` and `to` take."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from cogs.events.listing import ListFilters, decode_text, encode_text
from tests.test_events_manage import configure, create_event, insert_event
from utils.when import TimeRefused, day_start, parse_day

NOW = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)


def event_ids(text: str) -> list[int]:
    return [int(found) for found in re.findall(r"`#(\d+)`", text)]


async def list_events(h, user: str = "student", options: dict | None = None, **more):
    return await h.command("event list", user=user, options={**(options or {}), **more})


# ---- filters ------------------------------------------------------------------------------


async def test_list_shows_upcoming_events_soonest_first_with_time_status_going_and_id(h, clock):
    await configure(h)
    later = await insert_event(h, title="Later", starts_at=clock.now() + timedelta(days=9))
    sooner = await insert_event(h, title="Sooner", capacity=10)
    await h.bot.events.set_rsvp(sooner.id, h.member("student").id, "going", now=clock.now())
    await insert_event(
        h, title="Over", starts_at=clock.now() - timedelta(days=2), ends_at=clock.now() - timedelta(days=1)
    )
    result = await list_events(h)
    assert result.ephemeral
    text = result.reply.embeds[0]["description"]
    assert event_ids(text) == [sooner.id, later.id]
    first = text.splitlines()[0]
    assert "**Sooner**" in first and f"<t:{int(sooner.starts_at.timestamp())}:f>" in first
    assert "upcoming" in first and "1/10 going" in first
    assert result.reply.custom_ids == []  # one page: no buttons


async def test_when_active_past_and_all_pick_the_right_events(h, clock):
    await configure(h)
    now = clock.now()
    upcoming = await insert_event(h, title="Upcoming")
    active = await insert_event(h, title="Active", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1))
    ended = await insert_event(h, title="Ended", starts_at=now - timedelta(days=3), ends_at=now - timedelta(days=2))
    cancelled = await insert_event(h, title="Called off")
    await h.bot.events.cancel(cancelled, actor_id=h.member("admin").id, now=now)
    assert event_ids((await list_events(h, when="active")).text) == [active.id]
    assert set(event_ids((await list_events(h, when="past")).text)) == {ended.id, cancelled.id}
    assert set(event_ids((await list_events(h, when="all")).text)) == {upcoming.id, active.id, ended.id, cancelled.id}
    assert event_ids((await list_events(h)).text) == [upcoming.id]


async def test_search_matches_title_description_and_location_in_any_case(h):
    await configure(h)
    by_title = await insert_event(h, title="Raid NIGHT")
    by_text = await insert_event(h, title="Quiz", description="a raid of questions")
    by_place = await insert_event(h, title="Picnic", location="Raid park")
    await insert_event(h, title="Unrelated")
    result = await list_events(h, search="raid")
    assert set(event_ids(result.text)) == {by_title.id, by_text.id, by_place.id}
    literal = await list_events(h, search="100%")
    assert "No events match" in literal.text


async def test_from_and_to_are_whole_days_in_the_guild_zone(h, clock):
    await configure(h, timezone="America/New_York")
    # 2026-11-30 02:00 UTC is still the 29th in New York.
    late_29th = await insert_event(
        h,
        title="Late",
        starts_at=datetime(2026, 11, 30, 2, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 30, 4, 0, tzinfo=UTC),
    )
    on_30th = await insert_event(
        h,
        title="Next day",
        starts_at=datetime(2026, 11, 30, 15, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 30, 17, 0, tzinfo=UTC),
    )
    only_29th = await list_events(h, options={"from": "2026-11-29", "to": "2026-11-29"})
    assert event_ids(only_29th.text) == [late_29th.id]
    from_30th = await list_events(h, options={"from": "2026-11-30"})
    assert event_ids(from_30th.text) == [on_30th.id]


async def test_an_empty_result_says_so_and_how_to_widen_it(h):
    await configure(h)
    await insert_event(h, title="Raid night")
    result = await list_events(h, search="karaoke", options={"from": "2026-12-01"})
    text = result.text
    assert "No events match (upcoming · “karaoke” · from 2026-12-01)" in text
    assert "`when: all`" in text and "shorter `search`" in text and "wider `from`/`to`" in text
    nothing_yet = await h.command("event list", user="student", when="all")
    assert "No events match" in nothing_yet.text or "Raid night" in nothing_yet.text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"from": "someday"}, "I couldn't use `someday` as the `from` day"),
        ({"to": "03/04/2027"}, "day and month could be either way round"),
        ({"from": "2026-12-10", "to": "2026-12-01"}, "is before `from`"),
        ({"search": "a very long search text that goes on and on and on"}, "too long for me to page through"),
    ],
)
async def test_bad_filters_are_refused_with_an_example(h, options, message):
    await configure(h)
    result = await list_events(h, options=options)
    assert result.ephemeral
    assert message in result.text, result.text
    assert not result.reply.embeds


# ---- pages --------------------------------------------------------------------------------


async def test_pages_of_ten_with_buttons_that_carry_the_filters_and_work_after_a_restart(h, clock, restart):
    await configure(h)
    made = [
        await insert_event(h, title=f"Raid {index:02d}", starts_at=clock.now() + timedelta(days=1, hours=index))
        for index in range(23)
    ]
    await insert_event(h, title="Picnic")
    first = await list_events(h, search="raid")
    assert event_ids(first.text) == [event.id for event in made[:10]]
    assert "Page 1 of 3 · 23 events" in first.reply.embeds[0]["footer"]["text"]
    previous, following = first.reply.custom_ids
    assert previous != following
    assert all(len(custom_id) <= 100 for custom_id in first.reply.custom_ids)
    h = await restart()
    second = await h.click(first.reply, following, user="student")
    assert second.response.response_type == 7  # the list message itself is updated
    assert event_ids(second.response.text) == [event.id for event in made[10:20]]
    page_two = second.response
    third = await h.click(page_two, page_two.custom_ids[1], user="student")
    assert event_ids(third.response.text) == [event.id for event in made[20:]]
    back = await h.click(third.response, third.response.custom_ids[0], user="student")
    assert event_ids(back.response.text) == [event.id for event in made[10:20]]


def test_list_filters_survive_their_custom_id():
    for text in ("raid night", "Élan & co!", "🎉", ""):
        filters = ListFilters(when="past", text=text, first_day=date(2027, 3, 1), last_day=date(2027, 3, 31))
        custom_id = filters.custom_id(4)
        assert re.fullmatch(r"rollcall:event:list(:\d+)+", custom_id), custom_id
        assert decode_text(encode_text(text)) == (text.lower() if text.isascii() else text)


# ---- autocomplete -------------------------------------------------------------------------


async def test_autocomplete_offers_this_guilds_events_by_title_soonest_first_in_the_guild_zone(h, clock):
    await configure(h, timezone="Europe/Paris")
    later = await insert_event(h, title="Raid night", starts_at=datetime(2026, 12, 5, 18, 0, tzinfo=UTC))
    sooner = await insert_event(h, title="Raid prep", starts_at=datetime(2026, 11, 28, 18, 0, tzinfo=UTC))
    await insert_event(h, title="Quiz")
    choices = await h.autocomplete("event info", "event", user="student", event="raid")
    assert [choice["value"] for choice in choices] == [sooner.id, later.id]
    assert choices[0]["name"] == "Raid prep — Sat 28 Nov 19:00"


async def test_autocomplete_never_offers_more_than_25_or_names_past_100_characters(h, clock):
    await configure(h)
    for index in range(30):
        await insert_event(
            h, title=f"{'Long title ' * 12}{index}"[:100], starts_at=clock.now() + timedelta(days=1 + index)
        )
    choices = await h.autocomplete("event info", "event", user="student", event="")
    assert len(choices) == 25
    assert all(len(choice["name"]) <= 100 for choice in choices)


async def test_an_id_typed_in_the_option_finds_that_event(h):
    await configure(h)
    wanted = await insert_event(h, title="Quiz")
    await insert_event(h, title="Raid")
    choices = await h.autocomplete("event info", "event", user="student", event=f"#{wanted.id}")
    assert choices[0]["value"] == wanted.id


async def test_prefer_create_then_find_it_by_title(h):
    await configure(h)
    event = await create_event(h, title="Board games")
    choices = await h.autocomplete("event attendees", "event", user="organizer", event="board")
    assert [choice["value"] for choice in choices] == [event.id]


# ---- typed days ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2027-03-14", date(2027, 3, 14)),
        ("14 March 2027", date(2027, 3, 14)),
        ("today", date(2027, 3, 12)),
        ("yesterday", date(2027, 3, 11)),
        ("next friday", date(2027, 3, 19)),
        ("2027-03-14 19:00", date(2027, 3, 14)),
    ],
)
def test_parse_day_reads_dates_in_the_guild_zone(typed, expected):
    assert parse_day(typed, zone_name="America/New_York", now=NOW) == expected


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "it is empty"),
        ("2027-02-30", "there is no such date"),
        ("whenever", "I can't read it as a date"),
        ("03/04/2027", "either way round"),
        ("2040-01-01", "more than ten years away"),
    ],
)
def test_parse_day_refuses_with_an_example_and_echoes_the_input(typed, reason):
    with pytest.raises(TimeRefused) as refused:
        parse_day(typed, zone_name="America/New_York", now=NOW)
    assert reason in refused.value.message
    assert "`2027-03-14`" in refused.value.message


def test_a_day_starts_at_local_midnight_even_when_midnight_is_skipped():
    assert day_start(date(2027, 3, 14), "America/New_York") == datetime(2027, 3, 14, 5, 0, tzinfo=UTC)
    # Santiago moves its clocks forward at midnight: the day starts at 01:00 local (04:00 UTC).
    assert day_start(date(2027, 9, 5), "America/Santiago") == datetime(2027, 9, 5, 4, 0, tzinfo=UTC)
