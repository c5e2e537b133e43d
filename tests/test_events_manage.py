"""Organizer commands on one event, through real interactions: /event info, attendees, edit,
cancel and rsvp, with the notices they send and the rows they change."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from storage.events import Event
from tests.harness import JsonObject

# The fixtures' clock starts Monday 2026-11-23 09:00 UTC; the guild's zone is UTC unless set.
START_TEXT = "2026-11-28 19:00"
END_TEXT = "22:00"


# ---- helpers shared by the event test files -----------------------------------------------


async def configure(h, **options):
    result = await h.command("config set", user="admin", options={"organizer_role": h.role("Organizer"), **options})
    assert "Saved" in result.text, result.text


def text_inputs(modal: JsonObject) -> list[JsonObject]:
    """The modal's text inputs in order, wherever discord.py nests them (rows or labels)."""
    found: list[JsonObject] = []

    def walk(component: JsonObject) -> None:
        if component.get("type") == 4:
            found.append(component)
        for child in component.get("components") or []:
            walk(child)
        if component.get("component"):
            walk(component["component"])

    for top in modal.get("components") or []:
        walk(top)
    return found


def modal_values(modal: JsonObject, *values: str) -> dict[str, str]:
    return {component["custom_id"]: value for component, value in zip(text_inputs(modal), values, strict=True)}


def prefilled(modal: JsonObject) -> list[str]:
    return [component.get("value") or "" for component in text_inputs(modal)]


async def create_event(
    h,
    *,
    title: str = "Raid night",
    start: str = START_TEXT,
    end: str = END_TEXT,
    description: str = "",
    location: str = "",
    user: str = "admin",
    channel: str = "general",
    **options,
) -> Event:
    opened = await h.command("event create", user=user, channel=channel, options=options)
    form = opened.modal
    values = modal_values(form, title, description, start, end, location)
    submitted = await h.submit_modal(form, values, user=user, channel=channel)
    assert "is posted" in submitted.text, submitted.text
    event_id = await h.bot.db.fetch_value("SELECT max(id) FROM event")
    return await h.bot.events.get(event_id)


async def insert_event(h, *, guild_id: int | None = None, created_by: int | None = None, **fields) -> Event:
    """An event written through the repository: another guild's, or one made by a non-organizer."""
    now = h.bot.clock.now()
    values = {
        "guild_id": guild_id or h.guild.id,
        "channel_id": h.channel("general").id,
        "created_by": created_by or h.member("admin").id,
        "now": now,
        "title": "Raid night",
        "description": "",
        "location": "",
        "starts_at": now + timedelta(days=5),
        "ends_at": now + timedelta(days=5, hours=3),
        "capacity": None,
        "role_id": None,
        "signup_cutoff_at": None,
    }
    values.update(fields)
    if "starts_at" in fields and "ends_at" not in fields:
        values["ends_at"] = fields["starts_at"] + timedelta(hours=3)
    return await h.bot.events.create(**values)


async def rsvp(h, event: Event, member, status: str) -> None:
    member = h.member(member) if isinstance(member, str) else member
    await h.bot.events.set_rsvp(event.id, member.id, status, now=h.bot.clock.now())


def post_embed(discord_side, event: Event) -> JsonObject:
    message = discord_side.stored_message(event.message_id)
    assert message is not None
    return message["embeds"][0]


def post_custom_ids(discord_side, event: Event) -> list[str]:
    from tests.harness import iter_custom_ids

    message = discord_side.stored_message(event.message_id)
    return list(iter_custom_ids(message.get("components") or []))


def parse_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


async def row(h, event: Event) -> Event:
    return await h.bot.events.get(event.id)


# ---- /event info ------------------------------------------------------------------------


async def test_info_shows_details_counts_and_attendance_ephemerally(h, clock):
    await configure(h)
    event = await create_event(h, location="Castle", description="Bring potions", capacity=2)
    await rsvp(h, event, "student", "going")
    await rsvp(h, event, "student2", "going")
    await rsvp(h, event, "student3", "going")
    await rsvp(h, event, "member", "interested")
    await h.bot.events.record_attendance(event.id, h.member("organizer").id, now=clock.now(), source="organizer")
    result = await h.command("event info", user="student", event=event.id)
    assert result.ephemeral
    embed = result.reply.embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert embed["title"] == "Raid night"
    assert embed["description"] == "Bring potions"
    assert fields["Where"] == "Castle"
    assert fields["Going"] == "2/2"
    assert fields["Waitlist"] == "1"
    assert fields["Interested"] == "1"
    assert fields["Attended"] == "1"
    assert f"<t:{int(event.starts_at.timestamp())}:F>" in fields["When"]
    assert "upcoming" in fields["Status"]
    assert embed["footer"]["text"] == f"Event #{event.id}"


async def test_info_for_an_unknown_id_says_so(h):
    result = await h.command("event info", user="student", event=424242)
    assert result.ephemeral
    assert "No event #424242 in this server" in result.text


# ---- /event attendees -------------------------------------------------------------------


async def test_attendees_lists_each_answer_in_order_by_mention_with_counts(h, clock):
    await configure(h)
    event = await create_event(h, capacity=1)
    await rsvp(h, event, "student", "going")
    await rsvp(h, event, "student2", "going")  # full: the waitlist
    await rsvp(h, event, "student3", "interested")
    await rsvp(h, event, "member", "not_going")
    walk_in = h.member("organizer")
    await h.bot.events.record_attendance(event.id, walk_in.id, now=clock.now(), source="command")
    result = await h.command("event attendees", user="organizer", event=event.id)
    assert result.ephemeral
    assert not result.reply.files
    fields = [(field["name"], field["value"]) for field in result.reply.embeds[0]["fields"]]
    assert fields == [
        ("Going (1/1)", h.member("student").mention),
        ("Interested (1)", h.member("student3").mention),
        ("Not going (1)", h.member("member").mention),
        ("Waitlist (1)", h.member("student2").mention),
        ("Attended (1)", walk_in.mention),
    ]


async def test_long_attendee_lists_are_cut_and_attached_as_a_formula_safe_csv(h, clock):
    await configure(h)
    event = await create_event(h, capacity=50)
    tricky = h.add_member("tricky", display_name="=HYPERLINK(1)")
    members = [tricky] + [h.add_member(f"fan{index}") for index in range(69)]
    for member in members:
        await rsvp(h, event, member, "going")
    await h.bot.events.record_attendance(event.id, tricky.id, now=clock.now(), source="command")
    result = await h.command("event attendees", user="admin", event=event.id)
    reply = result.reply
    fields = {field["name"]: field["value"] for field in reply.embeds[0]["fields"]}
    assert "more" in fields["Going (50/50)"]
    assert len(fields["Going (50/50)"]) <= 1024
    assert "attached CSV" in reply.content
    rows = parse_csv(reply.file(f"event-{event.id}-attendees-2026-11-28.csv"))
    assert list(rows[0]) == [
        "user_id",
        "display_name",
        "status",
        "position",
        "rsvp_at_utc",
        "rsvp_at_local",
        "attended",
        "attended_at_utc",
        "source",
        "slot",
        "attended_at_local",
    ]
    assert len(rows) == 70
    assert rows[0]["display_name"] == "'=HYPERLINK(1)"
    assert rows[0]["attended"] == "yes" and rows[0]["source"] == "command"
    waitlist = [entry for entry in rows if entry["status"] == "waitlist"]
    assert [entry["position"] for entry in waitlist] == [str(n) for n in range(1, 21)]
    assert [entry["user_id"] for entry in waitlist] == [str(member.id) for member in members[50:]]


# ---- /event edit ------------------------------------------------------------------------


async def test_edit_opens_a_modal_prefilled_with_the_current_values_in_the_guild_zone(h):
    await configure(h, timezone="Europe/Paris")
    event = await create_event(h, location="Castle", description="Bring potions")
    result = await h.command("event edit", user="organizer", event=event.id)
    assert prefilled(result.modal) == ["Raid night", "Bring potions", START_TEXT, "2026-11-28 22:00", "Castle"]


async def test_edit_saves_audits_and_refreshes_the_post_without_notices_when_the_time_stays(h, discord_side):
    await configure(h)
    event = await create_event(h)
    await rsvp(h, event, "student", "going")
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    values = modal_values(form, "Raid night II", "New text", START_TEXT, "2026-11-28 22:00", "Keep")
    mark = len(discord_side.sent)
    result = await h.submit_modal(form, values, user="organizer")
    assert "Saved **Raid night II**" in result.text
    assert "told" not in result.text
    changed = await row(h, event)
    assert (changed.title, changed.description, changed.location) == ("Raid night II", "New text", "Keep")
    assert changed.starts_at == event.starts_at
    assert [entry.action for entry in await h.bot.audit.list(h.guild.id, action_prefix="event.edit")] == ["event.edit"]
    await h.bot.run_due_jobs()
    assert post_embed(discord_side, event)["title"] == "Raid night II"
    assert not [sent for sent in discord_side.since(mark) if sent.kind == "dm"]


async def test_moving_the_time_dms_going_and_waitlisted_members_once_and_counts_closed_dms(h, discord_side):
    await configure(h)
    event = await create_event(h, capacity=2)
    for name in ("student", "student2", "student3"):  # student3 waits
        await rsvp(h, event, name, "going")
    await rsvp(h, event, "member", "interested")
    discord_side.closed_dms.add(h.member("student2").id)
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    values = modal_values(form, "Raid night", "", "2026-11-29 20:00", "23:00", "")
    result = await h.submit_modal(form, values, user="organizer")
    assert "told 2, DMs closed 1" in result.text, result.text
    moved = await row(h, event)
    assert moved.starts_at.isoformat() == "2026-11-29T20:00:00+00:00"
    for name in ("student", "student3"):
        dms = discord_side.dms_to(h.member(name).id)
        assert len(dms) == 1
        assert f"<t:{int(moved.starts_at.timestamp())}:F>" in dms[0].content
    assert discord_side.dms_to(h.member("member").id) == []


async def test_an_edit_refused_echoes_what_was_typed_changes_nothing_and_can_be_reopened(h, discord_side):
    await configure(h)
    event = await create_event(h)
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    values = modal_values(form, "Renamed", "Long text kept", "2026-11-20 19:00", "22:00", "Hall")
    result = await h.submit_modal(form, values, user="organizer")
    assert result.ephemeral
    assert "`2026-11-20 19:00`" in result.text and "already passed" in result.text
    assert "Title: Renamed" in result.text and "Description: Long text kept" in result.text
    assert "Nothing was changed" in result.text
    assert await row(h, event) == event
    assert await h.bot.audit.list(h.guild.id, action_prefix="event.edit") == []
    again = await h.click(result.reply, result.reply.custom_ids[0], user="organizer")
    assert prefilled(again.modal) == ["Renamed", "Long text kept", "2026-11-20 19:00", "22:00", "Hall"]
    fixed = modal_values(again.modal, "Renamed", "Long text kept", "2026-11-30 19:00", "22:00", "Hall")
    saved = await h.submit_modal(again.modal, fixed, user="organizer")
    assert "Saved **Renamed**" in saved.text
    assert (await row(h, event)).starts_at.isoformat() == "2026-11-30T19:00:00+00:00"


async def test_an_edit_with_an_end_before_the_start_is_refused(h):
    await configure(h)
    event = await create_event(h)
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    values = modal_values(form, "Raid night", "", "2026-11-29 19:00", "2026-11-29 18:00", "")
    result = await h.submit_modal(form, values, user="organizer")
    assert "not after the start" in result.text
    assert await row(h, event) == event


async def test_an_active_event_keeps_its_start_while_its_end_moves(h, clock):
    await configure(h)
    event = await create_event(h)
    clock.set(event.starts_at + timedelta(minutes=30))
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    values = modal_values(form, "Raid night", "", START_TEXT, "2026-11-28 23:30", "")
    result = await h.submit_modal(form, values, user="organizer")
    assert "Saved" in result.text, result.text
    changed = await row(h, event)
    assert changed.starts_at == event.starts_at
    assert changed.ends_at.isoformat() == "2026-11-28T23:30:00+00:00"
    form = (await h.command("event edit", user="organizer", event=event.id)).modal
    past_end = modal_values(form, "Raid night", "", START_TEXT, "2026-11-28 19:10", "")
    refused = await h.submit_modal(form, past_end, user="organizer")
    assert "already passed" in refused.text
    assert (await row(h, event)).ends_at == changed.ends_at


async def test_the_creator_may_edit_their_own_event_without_the_organizer_role(h):
    await configure(h)
    event = await insert_event(h, created_by=h.member("student").id)
    form = (await h.command("event edit", user="student", event=event.id)).modal
    values = modal_values(form, "Student meetup", "", *prefilled(form)[2:4], "")
    result = await h.submit_modal(form, values, user="student")
    assert "Saved **Student meetup**" in result.text


async def test_editing_a_cancelled_event_is_refused(h):
    await configure(h)
    event = await create_event(h)
    await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=h.bot.clock.now())
    result = await h.command("event edit", user="organizer", event=event.id)
    assert "was cancelled, so it can't be edited" in result.text


# ---- /event cancel ----------------------------------------------------------------------


async def test_cancel_asks_first_then_cancels_once_updates_the_post_and_tells_members(h, discord_side):
    await configure(h)
    event = await create_event(h, capacity=1)
    await rsvp(h, event, "student", "going")
    await rsvp(h, event, "student2", "going")  # waitlisted
    await rsvp(h, event, "member", "interested")
    discord_side.closed_dms.add(h.member("student2").id)
    asked = await h.command("event cancel", user="organizer", event=event.id)
    assert asked.ephemeral
    assert "2 going or waitlisted members will get a DM" in asked.text
    assert (await row(h, event)).cancelled_at is None
    confirm = next(custom_id for custom_id in asked.reply.custom_ids)
    done = await h.click(asked.reply, confirm, user="organizer")
    edits = [sent for sent in done.own if sent.kind == "edit_response"]
    assert "Cancelled **Raid night**" in edits[-1].content
    assert "told 1, DMs closed 1" in edits[-1].content
    cancelled = await row(h, event)
    assert cancelled.cancelled_at is not None and cancelled.cancelled_by == h.member("organizer").id
    assert "was cancelled" in discord_side.dms_to(h.member("student").id)[0].content
    assert discord_side.dms_to(h.member("member").id) == []
    await h.bot.run_due_jobs()
    assert "Cancelled" in str(post_embed(discord_side, event)["fields"])
    assert post_custom_ids(discord_side, event) == []
    again = await h.command("event cancel", user="organizer", event=event.id)
    assert "already cancelled" in again.text
    assert len(await h.bot.audit.list(h.guild.id, action_prefix="event.cancel")) == 1


async def test_keep_leaves_the_event_as_it_was(h, discord_side):
    await configure(h)
    event = await create_event(h)
    await rsvp(h, event, "student", "going")
    asked = await h.command("event cancel", user="organizer", event=event.id)
    keep = asked.reply.custom_ids[1]
    kept = await h.click(asked.reply, keep, user="organizer")
    assert "nothing was changed" in kept.response.text
    assert (await row(h, event)).cancelled_at is None
    assert discord_side.dms_to(h.member("student").id) == []


async def test_the_creator_may_cancel_their_own_event(h):
    await configure(h)
    event = await insert_event(h, created_by=h.member("student").id)
    asked = await h.command("event cancel", user="student", event=event.id)
    await h.click(asked.reply, asked.reply.custom_ids[0], user="student")
    assert (await row(h, event)).cancelled_at is not None


async def test_an_ended_event_cannot_be_cancelled(h, clock):
    await configure(h)
    event = await create_event(h)
    clock.set(event.ends_at + timedelta(minutes=1))
    result = await h.command("event cancel", user="organizer", event=event.id)
    assert "already ended" in result.text
    assert (await row(h, event)).cancelled_at is None


# ---- /event rsvp ------------------------------------------------------------------------


async def test_an_organizer_sets_an_rsvp_by_hand_audited_and_shown_on_the_post(h, discord_side):
    await configure(h)
    event = await create_event(h)
    student = h.member("student")
    result = await h.command("event rsvp", user="organizer", event=event.id, member=student, status="going")
    assert f"{student.mention} is now **going**" in result.text
    rsvp_row = await h.bot.events.get_rsvp(event.id, student.id)
    assert rsvp_row.status == "going" and rsvp_row.set_by == h.member("organizer").id
    audit = await h.bot.audit.list(h.guild.id, action_prefix="event.rsvp")
    assert [(entry.before_value, entry.after_value) for entry in audit] == [(None, "going")]
    await h.bot.run_due_jobs()
    assert student.mention in str(post_embed(discord_side, event)["fields"])


async def test_a_full_event_waitlists_unless_the_organizer_seats_over_capacity(h):
    await configure(h)
    event = await create_event(h, capacity=1)
    await rsvp(h, event, "student", "going")
    student2 = h.member("student2")
    waiting = await h.command("event rsvp", user="organizer", event=event.id, member=student2, status="going")
    assert "#1 on the waitlist" in waiting.text and "over_capacity" in waiting.text
    assert (await h.bot.events.get_rsvp(event.id, student2.id)).status == "waitlist"
    seated = await h.command(
        "event rsvp", user="organizer", event=event.id, member=student2, status="going", over_capacity=True
    )
    assert "Seated over capacity: 2/1 going" in seated.text
    assert (await h.bot.events.get_rsvp(event.id, student2.id)).status == "going"
    again = await h.command("event rsvp", user="organizer", event=event.id, member=student2, status="going")
    assert "already going" in again.text


async def test_setting_a_going_member_to_not_going_promotes_the_waitlist_with_a_dm(h, discord_side):
    await configure(h)
    event = await create_event(h, capacity=1)
    await rsvp(h, event, "student", "going")
    await rsvp(h, event, "student2", "going")
    result = await h.command(
        "event rsvp", user="organizer", event=event.id, member=h.member("student"), status="not_going"
    )
    assert "moved up from the waitlist" in result.text
    assert (await h.bot.events.get_rsvp(event.id, h.member("student2").id)).status == "going"
    assert "you're now going" in discord_side.dms_to(h.member("student2").id)[0].content


async def test_rsvp_for_a_bot_or_someone_outside_the_server_is_refused(h):
    from tests.test_staff_boundaries import outsider

    await configure(h)
    event = await create_event(h)
    bot_member = h.guild.me
    refused = await h.command("event rsvp", user="organizer", event=event.id, member=bot_member, status="going")
    assert "bots don't RSVP" in refused.text
    visitor = outsider(h)
    refused = await h.command("event rsvp", user="organizer", event=event.id, member=visitor, status="going")
    assert "is not a member of this server" in refused.text
    assert await h.bot.events.list_rsvps(event.id) == []
    assert await h.bot.audit.list(h.guild.id, action_prefix="event.rsvp") == []
