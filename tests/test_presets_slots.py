"""Slot sign-up on an event made from a preset: the post shows `Tank 1/2` with names; the
persistent select signs up, switches and leaves; a full slot refuses or offers its waitlist,
promoted in order; slot roles; the race for a slot's last seat; Going / Not going on a slotted
event; `/event slot`; the attendee CSV's `slot` column; and the event keeping its own copy."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from tests.test_events_create import configure, create_event, created
from tests.test_events_post import settle_post
from tests.test_presets import made

SLOT = "rollcall:event:slot:{}"
WAIT = "rollcall:event:slotwait:{}:{}"
GOING = "rollcall:event:going:{}"
NOT_GOING = "rollcall:event:not_going:{}"


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def slotted(h, slots: str = "Tank 2, Healer 1, DPS 3", **options):
    await made(h, "Raid", slots)
    return await created(h, options={"preset": "raid", **options})


def post_of(discord_side, event):
    message = discord_side.stored_message(event.message_id)
    assert message is not None
    return message


async def pick(h, discord_side, event, value: str, user: str):
    return await h.select(post_of(discord_side, event), SLOT.format(event.id), [value], user=user)


async def signups(h, event) -> dict[str, tuple[str, str, str]]:
    """name -> (slot name, slot status, RSVP status)."""
    names = {member.id: member.name for member in h.guild.members}
    slots = {slot.position: slot.name for slot in await h.bot.event_slots.list_slots(event.id)}
    rsvps = {rsvp.user_id: rsvp.status for rsvp in await h.bot.events.list_rsvps(event.id)}
    return {
        names.get(s.user_id, str(s.user_id)): (slots[s.position], s.status, rsvps[s.user_id])
        for s in await h.bot.event_slots.list_signups(event.id)
    }


def post_text(discord_side, event) -> str:
    message = post_of(discord_side, event)
    parts = []
    for embed in message.get("embeds") or []:
        parts += [f"{field['name']}: {field['value']}" for field in embed.get("fields") or []]
    return "\n".join(parts)


# ---- the post ------------------------------------------------------------------------------


async def test_an_event_from_a_preset_posts_its_slots_and_a_slot_menu(configured, discord_side):
    h = configured
    event = await slotted(h)
    assert event.capacity == 6
    text = post_text(discord_side, event)
    assert "Going (0/6)" in text
    assert "**Tank 0/2**" in text and "**Healer 0/1**" in text and "**DPS 0/3**" in text
    message = post_of(discord_side, event)
    ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
    assert ids == [
        SLOT.format(event.id),
        GOING.format(event.id),
        f"rollcall:event:interested:{event.id}",
        NOT_GOING.format(event.id),
    ]
    select = message["components"][0]["components"][0]
    assert [option["value"] for option in select["options"]] == ["0", "1", "2", "leave"]


async def test_a_capacity_other_than_the_presets_total_is_refused(configured):
    h = configured
    await made(h, "Raid", "Tank 2, DPS 3")
    refused = await h.command(
        "event create", user="admin", channel="general", options={"preset": "Raid", "capacity": 9}
    )
    assert "5 seats in its slots" in refused.text and "leave `capacity` out" in refused.text
    unknown = await h.command("event create", user="admin", channel="general", options={"preset": "Nope"})
    assert "No preset called `Nope`" in unknown.text
    assert int(await h.bot.db.fetch_value("SELECT count(*) FROM event")) == 0


# ---- sign up, switch, leave ------------------------------------------------------------------


async def test_sign_up_switch_and_leave_with_the_select(configured, discord_side, clock):
    h = configured
    event = await slotted(h)
    joined = await pick(h, discord_side, event, "0", "student")
    assert joined.ephemeral and "You're going to **Board game night** as **Tank**" in joined.text
    assert await signups(h, event) == {"student": ("Tank", "seated", "going")}
    await settle_post(h, clock)
    assert f"**Tank 1/2** — <@{h.member('student').id}>" in post_text(discord_side, event)
    again = await pick(h, discord_side, event, "0", "student")
    assert "already in **Tank**" in again.text
    switched = await pick(h, discord_side, event, "2", "student")
    assert "Switched: you're now **DPS**" in switched.text and "gave up **Tank**" in switched.text
    assert await signups(h, event) == {"student": ("DPS", "seated", "going")}
    left = await pick(h, discord_side, event, "leave", "student")
    assert "You left **DPS**" in left.text and "not going" in left.text
    assert await signups(h, event) == {}
    assert (await h.bot.events.get_rsvp(event.id, h.member("student").id)).status == "not_going"
    await settle_post(h, clock)
    assert "**DPS 0/3**" in post_text(discord_side, event)


async def test_a_full_slot_refuses_and_offers_its_waitlist(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "1", "student")
    full = await pick(h, discord_side, event, "1", "student2")
    assert "**Healer** is full (1/1)" in full.text and "waitlist" in full.text
    assert await signups(h, event) == {"student": ("Healer", "seated", "going")}
    assert full.reply.custom_ids == [WAIT.format(event.id, 1)]
    waiting = await h.click(full.reply, WAIT.format(event.id, 1), user="student2")
    assert "#1 on the **Healer** waitlist" in waiting.text
    assert await signups(h, event) == {
        "student": ("Healer", "seated", "going"),
        "student2": ("Healer", "waitlist", "waitlist"),
    }
    still = await pick(h, discord_side, event, "1", "student2")
    assert "still full: you're #1 on its waitlist" in still.text


async def test_a_seated_member_is_told_joining_a_full_slots_waitlist_gives_up_their_seat(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "1", "student")
    await pick(h, discord_side, event, "0", "student2")
    full = await pick(h, discord_side, event, "1", "student2")
    assert "You keep your **Tank** seat" in full.text
    assert await signups(h, event) == {
        "student": ("Healer", "seated", "going"),
        "student2": ("Tank", "seated", "going"),
    }


async def test_a_freed_seat_goes_to_the_slots_waitlist_in_order_with_a_dm(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "1", "student")
    for name in ("student2", "student3"):
        full = await pick(h, discord_side, event, "1", name)
        await h.click(full.reply, WAIT.format(event.id, 1), user=name)
    await pick(h, discord_side, event, "0", "student")  # switch to Tank: the Healer seat frees
    assert await signups(h, event) == {
        "student": ("Tank", "seated", "going"),
        "student2": ("Healer", "seated", "going"),
        "student3": ("Healer", "waitlist", "waitlist"),
    }
    dms = discord_side.dms_to(h.member("student2").id)
    assert len(dms) == 1 and "you're now going to **Board game night**" in dms[0].content
    assert discord_side.dms_to(h.member("student3").id) == []
    await h.click(post_of(discord_side, event), NOT_GOING.format(event.id), user="student2")
    assert (await signups(h, event))["student3"] == ("Healer", "seated", "going")


async def test_a_slot_with_a_role_accepts_only_members_holding_it(configured, discord_side):
    h = configured
    event = await slotted(h, "Healer 2 @Student, Guest 2")
    refused = await pick(h, discord_side, event, "0", "member")
    assert f"Only members with <@&{h.role('Student').id}> can take **Healer**" in refused.text
    assert await signups(h, event) == {}
    guest = await pick(h, discord_side, event, "1", "member")
    assert "as **Guest**" in guest.text
    allowed = await pick(h, discord_side, event, "0", "student")
    assert "as **Healer**" in allowed.text


async def test_two_members_racing_for_the_last_seat_of_a_slot_never_overbook_it(configured, discord_side):
    h = configured
    event = await slotted(h)
    post = post_of(discord_side, event)
    before = asyncio.all_tasks()
    for name in ("student", "student2"):
        h.dispatch_nowait(h.component_payload(post, SLOT.format(event.id), user=h.member(name), values=["1"]))
    await h.idle(exclude=before)
    rows = await signups(h, event)
    assert list(rows.values()) == [("Healer", "seated", "going")]
    answers = [s.text for s in discord_side.of_kind("response") if s.ephemeral][-2:]
    assert sum("as **Healer**" in text for text in answers) == 1
    assert sum("is full (1/1)" in text for text in answers) == 1


async def test_the_select_still_works_after_a_restart(configured, discord_side, restart, clock):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "0", "student")
    h = await restart()
    joined = await pick(h, discord_side, event, "2", "student2")
    assert "as **DPS**" in joined.text
    switched = await pick(h, discord_side, event, "2", "student")
    assert "Switched" in switched.text
    await settle_post(h, clock)
    assert "**DPS 2/3**" in post_text(discord_side, event) and "**Tank 0/2**" in post_text(discord_side, event)


# ---- the RSVP buttons on a slotted event --------------------------------------------------


async def test_going_on_a_slotted_event_asks_for_a_slot(configured, discord_side):
    h = configured
    event = await slotted(h)
    asked = await h.click(post_of(discord_side, event), GOING.format(event.id), user="student")
    assert asked.ephemeral and "has slots: pick yours" in asked.text
    assert asked.reply.custom_ids == [SLOT.format(event.id)]
    assert await signups(h, event) == {}
    chosen = await h.select(asked.reply, SLOT.format(event.id), ["0"], user="student")
    assert "as **Tank**" in chosen.text
    again = await h.click(post_of(discord_side, event), GOING.format(event.id), user="student")
    assert "You're going as **Tank**" in again.text


async def test_interested_gives_up_the_slot(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "0", "student")
    answer = await h.click(post_of(discord_side, event), f"rollcall:event:interested:{event.id}", user="student")
    assert "You left **Tank**" in answer.text and "Interested" in answer.text
    assert await signups(h, event) == {}
    assert (await h.bot.events.get_rsvp(event.id, h.member("student").id)).status == "interested"


async def test_sign_ups_close_at_the_cutoff_for_slots_too(configured, discord_side, clock):
    h = configured
    event = await slotted(h)
    clock.set(event.starts_at)
    refused = await pick(h, discord_side, event, "0", "student")
    assert "closed" in refused.text
    assert await signups(h, event) == {}


# ---- organizers -----------------------------------------------------------------------------


async def test_event_slot_moves_a_member_and_is_audited(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "0", "student")
    choices = await h.autocomplete("event slot", "slot", user="admin", channel="general", event=event.id, slot="")
    assert [choice["value"] for choice in choices] == [0, 1, 2]
    assert choices[0]["name"] == "Tank (1/2)"
    moved = await h.command(
        "event slot", user="organizer", channel="general", event=event.id, member=h.member("student"), slot=1
    )
    assert "is now in **Healer**" in moved.text and "was **Tank**" in moved.text
    assert await signups(h, event) == {"student": ("Healer", "seated", "going")}
    [entry] = await h.bot.audit.list(h.guild.id, action_prefix="event.slot")
    assert entry.actor_id == h.member("organizer").id and entry.after_value == "slot 1 seated"
    full = await h.command(
        "event slot", user="admin", channel="general", event=event.id, member=h.member("student2"), slot=1
    )
    assert "is full (1/1)" in full.text and "Nothing was changed" in full.text
    assert "student2" not in await signups(h, event)


async def test_event_rsvp_on_a_slotted_event_points_to_event_slot(configured, discord_side):
    h = configured
    event = await slotted(h)
    await pick(h, discord_side, event, "0", "student")
    going = await h.command(
        "event rsvp", user="admin", channel="general", event=event.id, member=h.member("student2"), status="going"
    )
    assert "`/event slot`" in going.text and "Nothing was changed" in going.text
    out = await h.command(
        "event rsvp", user="admin", channel="general", event=event.id, member=h.member("student"), status="not_going"
    )
    assert "now **not going**" in out.text and "had **Tank**" in out.text
    assert await signups(h, event) == {}


async def test_the_attendee_csv_has_a_slot_column(configured, clock):
    h = configured
    await made(h, "Crowd", "Front 30, Back 30")
    event = await created(h, options={"preset": "Crowd"})
    for index in range(50):
        member = h.add_member(f"fan{index}")
        await h.bot.event_slots.take(event.id, member.id, index % 2, now=clock.now())
    result = await h.command("event attendees", user="admin", channel="general", event=event.id)
    rows = list(
        csv.DictReader(io.StringIO(result.reply.file(f"event-{event.id}-attendees-2026-11-25.csv").decode("utf-8-sig")))
    )
    slots = {row["display_name"]: row["slot"] for row in rows}
    assert slots["fan0"] == "Front" and slots["fan1"] == "Back"


# ---- the event keeps its own copy --------------------------------------------------------------


async def test_editing_or_deleting_the_preset_leaves_existing_events_alone(configured, discord_side):
    h = configured
    event = await slotted(h)
    opened = await h.command("preset edit", user="admin", channel="general", preset="Raid")
    await h.submit_modal(opened.modal, {"preset_slots": "Bard 9"}, user="admin", channel="general")
    assert [(s.name, s.seats) for s in await h.bot.event_slots.list_slots(event.id)] == [
        ("Tank", 2),
        ("Healer", 1),
        ("DPS", 3),
    ]
    asked = await h.command("preset delete", user="admin", channel="general", preset="Raid")
    await h.click(asked.reply, asked.reply.custom_ids[0], user="admin")
    assert await h.bot.presets.find_by_name(h.guild.id, "Raid") is None
    assert len(await h.bot.event_slots.list_slots(event.id)) == 3
    joined = await pick(h, discord_side, event, "1", "student")
    assert "as **Healer**" in joined.text
    assert (await h.bot.events.get(event.id)).capacity == 6


async def test_an_event_without_a_preset_has_no_slot_menu(configured, discord_side):
    h = configured
    result = await create_event(h)
    assert "is posted" in result.text
    message = discord_side.channel_messages(h.channel("general").id)[0]
    assert not any("rollcall:event:slot:" in cid for cid in message.custom_ids)


async def test_twenty_five_full_slots_fit_the_post_and_its_menu(configured, discord_side, clock):
    h = configured
    names = ", ".join(f"{'Slot name that is long ' + str(index):.40} 100" for index in range(25))
    event = await slotted(h, names)
    for index in range(30):
        member = h.add_member(f"raider{index}")
        await h.bot.event_slots.take(event.id, member.id, index % 25, now=clock.now())
    await h.click(post_of(discord_side, event), NOT_GOING.format(event.id), user="student")
    await settle_post(h, clock)
    message = post_of(discord_side, event)
    select = message["components"][0]["components"][0]
    assert len(select["options"]) == 25  # no room for "Leave my slot": Not going leaves
    assert "1/100" in post_text(discord_side, event)


async def test_the_next_occurrence_of_a_slotted_series_keeps_the_slots_with_no_one_in_them(configured, clock):
    h = configured
    first = await slotted(h, repeat="weekly")
    clock.set(first.ends_at)
    await h.bot.run_due_jobs()
    rows = await h.bot.db.fetch_all("SELECT id FROM event WHERE series_id = ? ORDER BY id", (first.series_id,))
    second = await h.bot.events.get(rows[-1]["id"])

    assert second.id != first.id
    assert [(slot.name, slot.seats) for slot in await h.bot.event_slots.list_slots(second.id)] == [
        (slot.name, slot.seats) for slot in await h.bot.event_slots.list_slots(first.id)
    ]
    assert await h.bot.event_slots.list_signups(second.id) == []
