"""/event ics through real interactions: the attachment is parsed back with `icalendar` and every
field checked (UID, UTC times, summary, description, location, post URL, RRULE, status)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from tests.test_events_manage import configure, create_event, insert_event


def parsed(result, name: str) -> list[icalendar.Event]:
    data = result.reply.file(name)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0"
    assert "Rollcall" in str(calendar["PRODID"])
    return list(calendar.walk("VEVENT"))


def post_url(h, event) -> str:
    return f"https://discord.com/channels/{h.guild.id}/{event.channel_id}/{event.message_id}"


async def test_one_event_exports_with_every_field_in_utc(h):
    await configure(h, timezone="Europe/Berlin")
    event = await create_event(h, description="Bring potions", location="Castle")
    result = await h.command("event ics", user="student", event=event.id)
    assert result.ephemeral
    assert "as a calendar file" in result.text
    [entry] = parsed(result, f"event-{event.id}.ics")
    assert str(entry["UID"]) == f"event-{event.id}@rollcall.{h.guild.id}"
    start, end = entry.decoded("DTSTART"), entry.decoded("DTEND")
    assert start == event.starts_at and end == event.ends_at
    assert start.utcoffset() == timedelta(0) and start.tzinfo is not None
    assert entry["DTSTART"].to_ical().endswith(b"Z")
    assert entry["DTEND"].to_ical().endswith(b"Z")
    assert str(entry["SUMMARY"]) == "Raid night"
    assert str(entry["DESCRIPTION"]) == "Bring potions"
    assert str(entry["LOCATION"]) == "Castle"
    assert str(entry["URL"]) == post_url(h, event)
    assert str(entry["STATUS"]) == "CONFIRMED"
    assert "RRULE" not in entry


async def test_a_series_carries_its_rrule_with_the_count_left(h, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly", repeat_count=4)
    [entry] = parsed(await h.command("event ics", user="student", event=first.id), f"event-{first.id}.ics")
    assert entry["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=4"
    clock.set(first.ends_at)
    await h.bot.run_due_jobs()
    second_id = await h.bot.db.fetch_value("SELECT max(id) FROM event")
    [entry] = parsed(await h.command("event ics", user="student", event=second_id), f"event-{second_id}.ics")
    assert entry["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=3"


async def test_a_series_until_a_day_ends_its_rrule_at_that_days_last_moment_in_utc(h):
    await configure(h, timezone="Europe/Berlin")
    first = await create_event(h, repeat="every_n_days", repeat_every_days=3, repeat_until="2026-12-20")
    [entry] = parsed(await h.command("event ics", user="student", event=first.id), f"event-{first.id}.ics")
    rule = entry["RRULE"]
    assert rule["FREQ"] == ["DAILY"] and rule["INTERVAL"] == [3]
    # 2026-12-20 23:59:59 in Berlin (UTC+1).
    assert rule["UNTIL"] == [datetime(2026, 12, 20, 22, 59, 59, tzinfo=UTC)]


async def test_weekdays_rrule_follows_the_local_days(h):
    await configure(h, timezone="America/New_York")
    # Monday 23:30 in New York is Tuesday 04:30 UTC: the UTC rule runs Tuesday to Saturday.
    first = await create_event(h, repeat="weekdays", start="2026-11-30 23:30", end="23:59")
    [entry] = parsed(await h.command("event ics", user="student", event=first.id), f"event-{first.id}.ics")
    assert entry["RRULE"]["BYDAY"] == ["TU", "WE", "TH", "FR", "SA"]
    assert entry.decoded("DTSTART") == datetime(2026, 12, 1, 4, 30, tzinfo=UTC)


async def test_all_upcoming_events_with_cancelled_ones_marked(h, clock):
    await configure(h)
    kept = await create_event(h, title="Raid night")
    dropped = await create_event(h, title="Board games", start="2026-11-29 18:00", end="20:00")
    await h.bot.events.cancel(dropped, actor_id=h.member("admin").id, now=clock.now())
    await insert_event(h, title="Long gone", starts_at=clock.now() - timedelta(days=3))
    await insert_event(h, guild_id=999, title="Elsewhere")
    result = await h.command("event ics", user="student")
    assert "2 upcoming events" in result.text
    entries = {str(entry["SUMMARY"]): entry for entry in parsed(result, "rollcall-events.ics")}
    assert set(entries) == {"Raid night", "Board games"}
    assert str(entries["Raid night"]["STATUS"]) == "CONFIRMED"
    assert str(entries["Board games"]["STATUS"]) == "CANCELLED"
    assert str(entries["Board games"]["UID"]) == f"event-{dropped.id}@rollcall.{h.guild.id}"
    assert str(entries["Raid night"]["UID"]) == f"event-{kept.id}@rollcall.{h.guild.id}"


async def test_no_upcoming_events_says_so_without_a_file(h):
    await configure(h)
    result = await h.command("event ics", user="student")
    assert "nothing to export" in result.text
    assert result.reply.files == []


async def test_another_servers_event_reads_as_missing(h):
    await configure(h)
    foreign = await insert_event(h, guild_id=999)
    result = await h.command("event ics", user="student", event=foreign.id)
    assert f"No event #{foreign.id} in this server" in result.text
    assert result.reply.files == []
