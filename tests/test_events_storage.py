"""The event repository on a real database: seats decided from committed rows, the waitlist
served in click order, searches scoped to one guild."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from storage.audit import AuditRepository
from storage.backend import Database
from storage.events import Event, EventRepository, EventSearch

NOW = datetime(2027, 3, 12, 15, 0, tzinfo=UTC)
GUILD = 1
OTHER_GUILD = 2


@pytest.fixture
def events(db: Database) -> EventRepository:
    return EventRepository(db, AuditRepository(db))


async def create(events: EventRepository, **overrides: object) -> Event:
    fields: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": 10,
        "created_by": 99,
        "now": NOW,
        "title": "Raid night",
        "description": "",
        "location": "",
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=2),
        "capacity": None,
        "role_id": None,
        "signup_cutoff_at": None,
    }
    fields.update(overrides)
    return await events.create(**fields)  # type: ignore[arg-type]


async def test_concurrent_going_never_overbooks_and_queues_in_click_order(events):
    event = await create(events, capacity=50)
    members = list(range(1000, 1120))

    changes = await asyncio.gather(*(events.set_rsvp(event.id, member, "going", now=NOW) for member in members))

    assert sum(change.after == "going" for change in changes) == 50
    going = await events.list_rsvps(event.id, "going")
    waitlist = await events.list_rsvps(event.id, "waitlist")
    assert len(going) == 50 and len(waitlist) == 70
    # Seats go in the order the database took the clicks (on SQLite the order asyncio.gather
    # started them; PostgreSQL's connections may reach it in another): every seated member
    # clicked before everyone waiting, and each click got its own place.
    in_queue_order = going + waitlist
    assert [rsvp.sequence for rsvp in in_queue_order] == sorted({rsvp.sequence for rsvp in in_queue_order})
    assert sorted(rsvp.user_id for rsvp in in_queue_order) == members


async def test_leaving_a_seat_promotes_the_first_waiting(events):
    event = await create(events, capacity=2)
    for member in (1, 2, 3, 4):
        await events.set_rsvp(event.id, member, "going", now=NOW)

    change = await events.set_rsvp(event.id, 1, "not_going", now=NOW)

    assert change.before == "going" and change.after == "not_going"
    assert change.promoted == (3,)
    assert [r.user_id for r in await events.list_rsvps(event.id, "going")] == [2, 3]
    assert [r.user_id for r in await events.list_rsvps(event.id, "waitlist")] == [4]


async def test_going_again_keeps_the_place_and_a_waitlisted_member_leaving_promotes_no_one(events):
    event = await create(events, capacity=1)
    await events.set_rsvp(event.id, 1, "going", now=NOW)
    await events.set_rsvp(event.id, 2, "going", now=NOW)
    await events.set_rsvp(event.id, 3, "going", now=NOW)

    again = await events.set_rsvp(event.id, 2, "going", now=NOW)
    assert not again.changed and again.after == "waitlist"
    left = await events.set_rsvp(event.id, 2, "interested", now=NOW)
    assert left.promoted == ()
    assert [r.user_id for r in await events.list_rsvps(event.id, "waitlist")] == [3]


async def test_an_organizer_may_seat_over_capacity_and_it_is_audited(events, db):
    event = await create(events, capacity=1)
    await events.set_rsvp(event.id, 1, "going", now=NOW)

    queued = await events.set_rsvp(event.id, 2, "going", now=NOW, set_by=99)
    seated = await events.set_rsvp(event.id, 3, "going", now=NOW, set_by=99, over_capacity=True)

    assert queued.after == "waitlist" and seated.after == "going"
    audit = await AuditRepository(db).list(GUILD, action_prefix="event.rsvp")
    assert [(entry.subject, entry.after_value) for entry in audit] == [
        (f"event:{event.id}:user:3", "going"),
        (f"event:{event.id}:user:2", "waitlist"),
    ]


async def test_a_cancelled_event_takes_no_rsvp(events):
    event = await create(events)
    assert await events.cancel(event, actor_id=99, now=NOW)
    assert not await events.cancel(event, actor_id=99, now=NOW)

    change = await events.set_rsvp(event.id, 1, "going", now=NOW)

    assert change.refused == "cancelled" and not change.changed
    assert await events.get_rsvp(event.id, 1) is None


async def test_event_ids_do_not_cross_guilds(events):
    event = await create(events)
    assert await events.get_in_guild(GUILD, event.id) == event
    assert await events.get_in_guild(OTHER_GUILD, event.id) is None


async def test_search_filters_and_pages(events):
    titles = ["Raid night", "Board games", "Raid practice", "Movie 100% fun"]
    for offset, title in enumerate(titles):
        await create(
            events,
            title=title,
            starts_at=NOW + timedelta(days=offset + 1),
            ends_at=NOW + timedelta(days=offset + 1, hours=1),
        )
    await create(events, guild_id=OTHER_GUILD, title="Raid elsewhere")
    past = await create(
        events,
        title="Old raid",
        now=NOW - timedelta(days=9),
        starts_at=NOW - timedelta(days=3),
        ends_at=NOW - timedelta(days=3) + timedelta(hours=1),
    )

    raids = EventSearch(GUILD, text="RAID")
    assert [e.title for e in await events.search(raids, now=NOW, limit=10)] == ["Raid night", "Raid practice"]
    assert await events.count_search(raids, now=NOW) == 2
    assert [e.title for e in await events.search(EventSearch(GUILD, text="100%"), now=NOW, limit=10)] == [
        "Movie 100% fun"
    ]
    assert [e.title for e in await events.search(EventSearch(GUILD, text="%"), now=NOW, limit=10)] == ["Movie 100% fun"]
    assert [e.id for e in await events.search(EventSearch(GUILD, when="past"), now=NOW, limit=10)] == [past.id]
    upcoming = EventSearch(GUILD)
    assert [e.title for e in await events.search(upcoming, now=NOW, limit=2, offset=2)] == [
        "Raid practice",
        "Movie 100% fun",
    ]
    window = EventSearch(
        GUILD, when="all", starts_from=NOW + timedelta(days=2), starts_to=NOW + timedelta(days=3, hours=1)
    )
    assert [e.title for e in await events.search(window, now=NOW, limit=10)] == ["Board games", "Raid practice"]


async def test_autocomplete_is_this_guilds_soonest_first_then_recent_past(events):
    later = await create(
        events, title="Raid later", starts_at=NOW + timedelta(days=5), ends_at=NOW + timedelta(days=5, hours=1)
    )
    sooner = await create(events, title="Raid sooner")
    ended = await create(
        events,
        title="Raid ended",
        now=NOW - timedelta(days=9),
        starts_at=NOW - timedelta(days=2),
        ends_at=NOW - timedelta(days=2) + timedelta(hours=1),
    )
    await create(events, guild_id=OTHER_GUILD, title="Raid elsewhere")

    found = await events.list_for_autocomplete(GUILD, "raid", now=NOW)

    assert [event.id for event in found] == [sooner.id, later.id, ended.id]


async def test_the_stale_mark_survives_a_change_made_during_a_refresh(events):
    event = await create(events)
    await events.set_message(event.id, 555)
    await events.set_rsvp(event.id, 1, "going", now=NOW)
    stale = (await events.get(event.id)).post_stale_since
    assert [e.id for e in await events.list_stale_posts()] == [event.id]

    await events.mark_post_refreshed(event.id, stale_since=stale, now=NOW)
    assert await events.list_stale_posts() == []

    await events.set_rsvp(event.id, 2, "going", now=NOW + timedelta(seconds=1))
    marked = (await events.get(event.id)).post_stale_since
    await events.set_rsvp(event.id, 3, "going", now=NOW + timedelta(seconds=2))
    await events.mark_post_refreshed(event.id, stale_since=NOW, now=NOW + timedelta(seconds=3))
    assert (await events.get(event.id)).post_stale_since == marked


async def test_attendance_counts_once(events):
    event = await create(events)
    assert await events.record_attendance(event.id, 1, now=NOW, source="command")
    assert not await events.record_attendance(event.id, 1, now=NOW, source="roll_call")
    assert [a.source for a in await events.list_attendance(event.id)] == ["command"]
