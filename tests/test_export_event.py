"""/export event: one CSV with a row per member tied to the event (RSVP, waitlist place, slot,
attendance, no-show, walk-in), for organizers and the event's creator, never another server's."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.test_events_create import configure, created
from tests.test_exports import files_of, table
from tests.test_presets import made

GOING = "rollcall:event:going:{}"
INTERESTED = "rollcall:event:interested:{}"
NOT_GOING = "rollcall:event:not_going:{}"
SLOT = "rollcall:event:slot:{}"
WAIT = "rollcall:event:slotwait:{}:{}"
HEADER = [
    "user_id",
    "display_name",
    "rsvp_status",
    "waitlist_position",
    "slot",
    "rsvp_at_utc",
    "rsvp_at_local",
    "attended",
    "attended_at_utc",
    "attended_at_local",
    "attendance_source",
    "no_show",
    "walk_in",
]


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


def post_of(discord_side, event):
    message = discord_side.stored_message(event.message_id)
    assert message is not None
    return message


async def click(h, discord_side, event, template: str, user: str, clock) -> None:
    clock.advance(minutes=1)
    result = await h.click(post_of(discord_side, event), template.format(event.id), user=user)
    assert result.ephemeral, result.text


async def attend(h, event, user: str) -> None:
    said = await h.command("event attend", user=user, channel="general", event=event.id)
    assert "marked as attending" in said.text, said.text


@pytest.fixture
async def known_event(configured, discord_side, clock):
    """Board game night (2026-11-25 19:00–22:00 Berlin, capacity 2). From 09:01 UTC on the 23rd,
    a minute apart: student and student2 Going, student3 and ana Going onto the waitlist (#1, #2),
    bob Interested, cy Not going. At 19:10 Berlin (18:10 UTC) student attends, then bob (Interested)
    and dan (no answer at all) walk in a minute apart. student2 never comes: a no-show."""
    h = configured
    for name in ("ana", "bob", "cy", "dan"):
        h.add_member(name)
    event = await created(h, options={"capacity": 2})
    for name, button in (
        ("student", GOING),
        ("student2", GOING),
        ("student3", GOING),
        ("ana", GOING),
        ("bob", INTERESTED),
        ("cy", NOT_GOING),
    ):
        await click(h, discord_side, event, button, name, clock)
    clock.set(event.starts_at + timedelta(minutes=10))
    for name in ("student", "bob", "dan"):
        await attend(h, event, name)
        clock.advance(minutes=1)
    return event


def by_name(data: bytes) -> dict[str, dict[str, str]]:
    return {row["display_name"]: row for row in table(data)}


async def test_export_event_has_one_row_per_member_with_exact_columns_and_values(h, known_event, clock):
    event = known_event
    clock.set(event.ends_at + timedelta(hours=1))
    result = await h.command("export event", user="organizer", channel="general", event=event.id)
    assert result.ephemeral
    assert "7 members, 2 going, 3 attended, 2 walk-ins, 1 no-shows" in result.text
    [(name, data)] = files_of(result)
    assert name == f"event-{event.id}-export-2026-11-25.csv"
    assert data.startswith(b"\xef\xbb\xbf")
    rows = table(data)
    assert list(rows[0]) == HEADER
    names = ("student", "student2", "student3", "ana", "bob", "cy", "dan")
    ids = {name: str(h.member(name).id) for name in names}
    got = [tuple(row.values()) for row in rows]
    assert got == [
        (
            ids["student"], "student", "going", "", "",
            "2026-11-23T09:01:00+00:00", "2026-11-23T10:01:00+01:00",
            "yes", "2026-11-25T18:10:00+00:00", "2026-11-25T19:10:00+01:00", "command",
            "no", "no",
        ),
        (
            ids["student2"], "student2", "going", "", "",
            "2026-11-23T09:02:00+00:00", "2026-11-23T10:02:00+01:00",
            "no", "", "", "",
            "yes", "no",
        ),
        (
            ids["bob"], "bob", "interested", "", "",
            "2026-11-23T09:05:00+00:00", "2026-11-23T10:05:00+01:00",
            "yes", "2026-11-25T18:11:00+00:00", "2026-11-25T19:11:00+01:00", "command",
            "no", "yes",
        ),
        (
            ids["cy"], "cy", "not_going", "", "",
            "2026-11-23T09:06:00+00:00", "2026-11-23T10:06:00+01:00",
            "no", "", "", "",
            "no", "no",
        ),
        (
            ids["student3"], "student3", "waitlist", "1", "",
            "2026-11-23T09:03:00+00:00", "2026-11-23T10:03:00+01:00",
            "no", "", "", "",
            "no", "no",
        ),
        (
            ids["ana"], "ana", "waitlist", "2", "",
            "2026-11-23T09:04:00+00:00", "2026-11-23T10:04:00+01:00",
            "no", "", "", "",
            "no", "no",
        ),
        (
            ids["dan"], "dan", "", "", "",
            "", "",
            "yes", "2026-11-25T18:12:00+00:00", "2026-11-25T19:12:00+01:00", "command",
            "no", "yes",
        ),
    ]  # fmt: skip


async def test_before_the_event_ends_no_shows_are_left_empty(h, known_event):
    result = await h.command("export event", user="admin", channel="general", event=known_event.id)
    assert "(no-shows once it has ended)" in result.text
    rows = by_name(files_of(result)[0][1])
    assert {row["no_show"] for row in rows.values()} == {""}
    assert rows["dan"]["walk_in"] == "yes" and rows["student2"]["attended"] == "no"


async def test_an_event_with_slots_gives_each_members_slot_and_place_in_its_queue(configured, discord_side, clock):
    h = configured
    await made(h, "Duo", "Tank 1, Healer 1")
    event = await created(h, options={"preset": "Duo"})
    for name, slot in (("student", "0"), ("student2", "1"), ("student3", "0"), ("member", "1")):
        clock.advance(minutes=1)
        picked = await h.select(post_of(discord_side, event), SLOT.format(event.id), [slot], user=name)
        if "is full" in picked.text:
            await h.click(picked.reply, WAIT.format(event.id, slot), user=name)
    result = await h.command("export event", user="admin", channel="general", event=event.id)
    rows = by_name(files_of(result)[0][1])
    slots = {name: (row["rsvp_status"], row["slot"], row["waitlist_position"]) for name, row in rows.items()}
    assert slots == {
        "student": ("going", "Tank", ""),
        "student2": ("going", "Healer", ""),
        "student3": ("waitlist", "Tank", "1"),
        "member": ("waitlist", "Healer", "1"),
    }


async def test_the_events_creator_may_export_it_from_any_channel(h, configured, clock):
    said = await h.command("config set", user="admin", channel="general", admin_channel=h.channel("admin"))
    assert "Saved" in said.text, said.text
    theirs = await h.bot.events.create(
        guild_id=h.guild.id,
        channel_id=h.channel("general").id,
        created_by=h.member("student").id,
        now=clock.now(),
        title="Study group",
        description="",
        location="",
        starts_at=clock.now() + timedelta(days=1),
        ends_at=clock.now() + timedelta(days=1, hours=2),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    await h.bot.events.set_rsvp(theirs.id, h.member("student2").id, "going", now=clock.now())
    choices = await h.autocomplete("export event", "event", user="student", channel="general", event="")
    assert [choice["value"] for choice in choices] == [theirs.id]
    result = await h.command("export event", user="student", channel="general", event=theirs.id)
    assert [row["display_name"] for row in table(files_of(result)[0][1])] == ["student2"]


async def test_someone_else_is_refused_and_nothing_else_is_sent(h, known_event):
    result = await h.command("export event", user="student2", channel="general", event=known_event.id)
    assert "Only server admins (Manage Server), the organizer role and the member who created" in result.text
    assert "can export it" in result.text
    assert [sent.kind for sent in result.sent] == ["response"]
    assert files_of(result) == []
    assert await h.autocomplete("export event", "event", user="student2", channel="general", event="") == []


async def test_another_servers_event_id_reads_as_missing(h, known_event, clock):
    theirs = await h.bot.events.create(
        guild_id=h.guild.id + 1,
        channel_id=1,
        created_by=h.member("admin").id,
        now=clock.now(),
        title="Their event",
        description="",
        location="",
        starts_at=clock.now(),
        ends_at=clock.now() + timedelta(hours=2),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    await h.bot.events.set_rsvp(theirs.id, h.member("student").id, "going", now=clock.now())
    result = await h.command("export event", user="admin", channel="general", event=theirs.id)
    assert f"No event #{theirs.id} in this server" in result.text
    assert files_of(result) == []
    # Even its creator, a member here too, can't reach it from this server.
    mine = await h.autocomplete("export event", "event", user="admin", channel="general", event=str(theirs.id))
    assert theirs.id not in [choice["value"] for choice in mine]


async def test_an_event_nobody_answered_says_so_without_a_file(configured):
    h = configured
    event = await created(h)
    result = await h.command("export event", user="admin", channel="general", event=event.id)
    assert "nothing to export" in result.text
    assert files_of(result) == []


async def test_post_true_shares_the_file_in_the_channel(h, known_event):
    result = await h.command("export event", user="admin", channel="general", event=known_event.id, post=True)
    assert not result.reply.ephemeral
    assert files_of(result)


async def test_report_event_autocompletes_this_servers_events(h, known_event):
    choices = await h.autocomplete("report event", "event", user="organizer", channel="general", event="board")
    assert [choice["value"] for choice in choices] == [known_event.id]
