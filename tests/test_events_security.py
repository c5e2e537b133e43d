"""Who may touch an event: organizer actions refused to everyone else (nothing changed), the
creator's own edit and cancel, and another guild's events out of reach by id and in the
autocomplete."""

from __future__ import annotations

import pytest

from tests.test_events_manage import configure, create_event, insert_event, modal_values, prefilled, rsvp

OTHER_GUILD = 999_000_000_000_000_001


async def snapshot(h, event):
    return (
        await h.bot.events.get(event.id),
        await h.bot.events.list_rsvps(event.id),
        await h.bot.audit.list(h.guild.id, action_prefix="event."),
    )


def organizer_actions(h, event_id: int) -> list[tuple[str, dict]]:
    return [
        ("event attendees", {"event": event_id}),
        ("event edit", {"event": event_id}),
        ("event cancel", {"event": event_id}),
        ("event rsvp", {"event": event_id, "member": h.member("student2"), "status": "going"}),
    ]


@pytest.mark.parametrize("who", ["student", "member"])
async def test_every_organizer_action_is_refused_to_a_non_organizer_and_changes_nothing(h, discord_side, who):
    await configure(h)
    event = await create_event(h)
    await rsvp(h, event, "student3", "going")
    before = await snapshot(h, event)
    for name, options in organizer_actions(h, event.id):
        mark = len(discord_side.sent)
        result = await h.command(name, user=who, options=options)
        assert result.ephemeral, name
        assert result.response.response_type == 4, f"/{name} answered with {result.response.response_type}"
        assert "Only server admins (Manage Server)" in result.text, (name, result.text)
        assert not [sent for sent in discord_side.since(mark) if sent.kind in ("dm", "message", "edit")], name
    assert await snapshot(h, event) == before


async def test_the_organizer_role_is_refused_once_it_is_taken_away_even_mid_cancel(h):
    await configure(h)
    event = await create_event(h)
    asked = await h.command("event cancel", user="organizer", event=event.id)
    organizer = h.member("organizer")
    await organizer.remove_roles(h.role("Organizer"))
    await h.idle()
    clicked = await h.click(asked.reply, asked.reply.custom_ids[0], user=organizer)
    assert "Only server admins (Manage Server)" in clicked.text
    assert (await h.bot.events.get(event.id)).cancelled_at is None


async def test_organizer_commands_follow_the_admin_channel_rule(h):
    await configure(h, admin_channel=h.channel("admin"))
    event = await insert_event(h)
    elsewhere = await h.command("event attendees", user="organizer", channel="general", event=event.id)
    assert "answer only in" in elsewhere.text
    inside = await h.command("event attendees", user="organizer", channel="admin", event=event.id)
    assert inside.reply.embeds


async def test_a_creator_edits_and_cancels_only_their_own_events(h):
    await configure(h)
    own = await insert_event(h, title="Mine", created_by=h.member("student").id)
    theirs = await insert_event(h, title="Theirs", created_by=h.member("student2").id)
    choices = await h.autocomplete("event edit", "event", user="student", event="")
    assert [choice["value"] for choice in choices] == [own.id]
    assert [c["value"] for c in await h.autocomplete("event cancel", "event", user="student", event="")] == [own.id]
    form = (await h.command("event edit", user="student", event=own.id)).modal
    assert prefilled(form)[0] == "Mine"
    refused = await h.command("event edit", user="student", event=theirs.id)
    assert "the member who created **Theirs** can edit it" in refused.text
    refused = await h.command("event cancel", user="student", event=theirs.id)
    assert "can cancel it" in refused.text
    assert (await h.bot.events.get(theirs.id)) == theirs


async def test_a_creator_who_lost_access_cannot_submit_someone_elses_event_through_an_old_form(h):
    """The modal submit re-checks: a form for an event must not be replayed onto another's."""
    await configure(h)
    theirs = await insert_event(h, title="Theirs", created_by=h.member("student2").id)
    form = (await h.command("event edit", user="organizer", event=theirs.id)).modal
    organizer = h.member("organizer")
    await organizer.remove_roles(h.role("Organizer"))
    await h.idle()
    values = modal_values(form, "Hijacked", "", *prefilled(form)[2:4], "")
    result = await h.submit_modal(form, values, user=organizer)
    assert "can edit it" in result.text
    assert (await h.bot.events.get(theirs.id)).title == "Theirs"


# ---- another guild's events ---------------------------------------------------------------


async def test_another_guilds_event_reads_exactly_like_a_missing_one_everywhere(h):
    await configure(h)
    foreign = await insert_event(h, guild_id=OTHER_GUILD, title="Secret raid")
    missing_id = foreign.id + 1000
    commands = [
        ("event info", "student", {}),
        ("event attend", "student", {}),
        ("event attendees", "admin", {}),
        ("event edit", "admin", {}),
        ("event cancel", "admin", {}),
        ("event rsvp", "admin", {"member": h.member("student"), "status": "going"}),
    ]
    for name, user, extra in commands:
        foreign_text = (await h.command(name, user=user, options={"event": foreign.id, **extra})).text
        missing_text = (await h.command(name, user=user, options={"event": missing_id, **extra})).text
        assert "Secret raid" not in foreign_text, name
        assert foreign_text.replace(str(foreign.id), "N") == missing_text.replace(str(missing_id), "N"), name
        assert f"No event #{foreign.id} in this server" in foreign_text or "no event" in foreign_text.lower(), name
    after = await h.bot.events.get(foreign.id)
    assert after == foreign
    assert await h.bot.events.list_rsvps(foreign.id) == []
    assert [entry.action for entry in await h.bot.audit.list(OTHER_GUILD)] == ["event.create"]


async def test_autocomplete_never_offers_another_guilds_events(h):
    await configure(h)
    foreign = await insert_event(h, guild_id=OTHER_GUILD, title="Raid elsewhere")
    own = await insert_event(h, title="Raid here")
    for command, user in (("event info", "student"), ("event attendees", "admin"), ("event edit", "admin")):
        by_title = await h.autocomplete(command, "event", user=user, event="raid")
        assert [choice["value"] for choice in by_title] == [own.id], command
        by_id = await h.autocomplete(command, "event", user=user, event=f"#{foreign.id}")
        assert foreign.id not in [choice["value"] for choice in by_id], command


async def test_a_page_button_lists_only_the_guild_it_is_clicked_in(h):
    await configure(h)
    for index in range(11):
        await insert_event(h, title=f"Raid {index}")
    await insert_event(h, guild_id=OTHER_GUILD, title="Raid abroad")
    first = await h.command("event list", user="student", search="raid")
    page_two = await h.click(first.reply, first.reply.custom_ids[1], user="student")
    assert "Raid abroad" not in page_two.response.text
    assert "11 events" in page_two.response.text


async def test_organizer_autocompletes_offer_nothing_to_members(h):
    await configure(h)
    await create_event(h)
    for command in ("event attendees", "event rsvp"):
        assert await h.autocomplete(command, "event", user="student", event="") == [], command
