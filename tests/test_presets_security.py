"""Who may use presets and slots, and where ids stop: non-organizers are refused on every
preset command (and on the forms and buttons that come later), another server's presets and
slotted events are never reached, and SQL-looking or markup-laden names are stored as text."""

from __future__ import annotations

import pytest

from tests.test_events_create import configure, created
from tests.test_presets import made, preset_count, submit_preset

SLOT = "rollcall:event:slot:{}"


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


PRESET_COMMANDS = [
    ("preset create", {}),
    ("preset list", {}),
    ("preset show", {"preset": "Raid"}),
    ("preset edit", {"preset": "Raid"}),
    ("preset delete", {"preset": "Raid"}),
    ("preset slot_role", {"preset": "Raid", "slot": "Tank"}),
]


@pytest.mark.parametrize(("command", "options"), PRESET_COMMANDS)
@pytest.mark.parametrize("who", ["student", "member"])
async def test_non_organizers_are_refused_on_every_preset_command(configured, command, options, who):
    h = configured
    await made(h, "Raid")
    before = await h.bot.db.fetch_all("SELECT * FROM preset_slot ORDER BY preset_id, position")
    refused = await h.command(command, user=who, channel="general", options=options)
    assert refused.ephemeral
    assert refused.response.response_type == 4  # no modal was opened
    assert "Only server admins (Manage Server) and the organizer role" in refused.text
    assert await h.bot.db.fetch_all("SELECT * FROM preset_slot ORDER BY preset_id, position") == before
    assert await preset_count(h) == 1


@pytest.mark.parametrize(("command", "options"), PRESET_COMMANDS)
async def test_the_organizer_role_may_use_every_preset_command(configured, command, options):
    h = configured
    await made(h, "Raid")
    result = await h.command(command, user="organizer", channel="general", options=options)
    assert "Only server admins" not in (result.text if result.response.response_type != 9 else "")


async def test_the_preset_autocomplete_offers_nothing_to_non_staff(configured):
    h = configured
    await made(h, "Raid")
    assert await h.autocomplete("preset show", "preset", user="student", channel="general", preset="") == []
    assert await h.autocomplete("event create", "preset", user="member", channel="general", preset="") == []
    assert len(await h.autocomplete("preset show", "preset", user="organizer", channel="general", preset="")) == 1


async def test_a_form_submitted_after_losing_the_role_saves_nothing(configured, discord_side):
    h = configured
    opened = await h.command("preset create", user="organizer", channel="general")
    await h.bot.http.remove_role(h.guild.id, h.member("organizer").id, h.role("Organizer").id)
    await h.idle()
    refused = await h.submit_modal(
        opened.modal, {"preset_name": "Raid", "preset_slots": "Tank 2"}, user="organizer", channel="general"
    )
    assert "Only server admins" in refused.text
    assert await preset_count(h) == 0


async def test_the_list_page_button_refuses_non_staff(configured, restart):
    h = configured
    for index in range(11):
        await made(h, f"P{index:02d}", "Tank 1")
    listed = await h.command("preset list", user="admin", channel="general")
    refused = await h.click(listed.reply, "rollcall:preset:list:1", user="student")
    assert "Only server admins" in refused.text


async def test_admin_commands_answer_only_in_the_admin_channel(configured):
    h = configured
    await h.command("config set", user="admin", channel="general", admin_channel=h.channel("admin"))
    refused = await h.command("preset list", user="organizer", channel="general")
    assert f"only in <#{h.channel('admin').id}>" in refused.text
    allowed = await h.command("preset list", user="organizer", channel="admin")
    assert "No presets" in allowed.text


# ---- other servers -----------------------------------------------------------------------


async def test_another_servers_preset_is_never_found_by_name_or_id(configured, clock):
    h = configured
    theirs = await h.bot.presets.create(
        guild_id=h.guild.id + 1, name="Secret raid", description="", slots=[], actor_id=1, now=clock.now()
    )
    for typed in ("Secret raid", str(theirs.id), f"#{theirs.id}"):
        shown = await h.command("preset show", user="admin", channel="general", preset=typed)
        assert "No preset called" in shown.text
        create = await h.command("event create", user="admin", channel="general", options={"preset": typed})
        assert "No preset called" in create.text
    assert await h.autocomplete("preset show", "preset", user="admin", channel="general", preset="") == []
    listed = await h.command("preset list", user="admin", channel="general")
    assert "Secret raid" not in listed.text
    deleted = await h.command("preset delete", user="admin", channel="general", preset="Secret raid")
    assert "No preset called" in deleted.text
    assert await h.bot.presets.get_in_guild(h.guild.id + 1, theirs.id) is not None


async def test_a_forged_slot_select_naming_another_servers_event_touches_nothing(configured, discord_side, clock):
    h = configured
    await made(h, "Raid", "Tank 2")
    ours = await created(h, options={"preset": "Raid"})
    preset = await h.bot.presets.find_by_name(h.guild.id, "Raid")
    theirs = await h.bot.events.create(
        guild_id=h.guild.id + 1,
        channel_id=h.channel("general").id + 1,
        created_by=1,
        now=clock.now(),
        title="Their raid",
        description="",
        location="",
        starts_at=ours.starts_at,
        ends_at=ours.ends_at,
        capacity=2,
        role_id=None,
        signup_cutoff_at=None,
        slots=preset.slots,
    )
    post = dict(discord_side.stored_message(ours.message_id))
    forged = [
        {
            **row,
            "components": [
                {**c, "custom_id": c["custom_id"].replace(f":{ours.id}", f":{theirs.id}")} for c in row["components"]
            ],
        }
        for row in post["components"]
    ]
    post["components"] = forged
    refused = await h.select(post, SLOT.format(theirs.id), ["0"], user="student")
    assert "This event no longer exists." in refused.text
    assert await h.bot.event_slots.list_signups(theirs.id) == []
    slot_choices = await h.autocomplete("event slot", "slot", user="admin", channel="general", event=theirs.id, slot="")
    assert slot_choices == []
    moved = await h.command(
        "event slot", user="admin", channel="general", event=theirs.id, member=h.member("student"), slot=0
    )
    assert f"No event #{theirs.id} in this server" in moved.text
    assert await h.bot.event_slots.list_signups(theirs.id) == []


async def test_event_slot_refuses_non_organizers(configured, discord_side):
    h = configured
    await made(h, "Raid", "Tank 2")
    event = await created(h, options={"preset": "Raid"})
    refused = await h.command(
        "event slot", user="student", channel="general", event=event.id, member=h.member("student"), slot=0
    )
    assert "Only server admins" in refused.text
    assert await h.bot.event_slots.list_signups(event.id) == []


# ---- hostile text --------------------------------------------------------------------------


async def test_sql_looking_and_markup_names_are_stored_as_typed(configured, discord_side):
    h = configured
    name = "@everyone x'); DROP TABLE preset;--"
    result = await submit_preset(h, name, "Robert') OR 1=1 -- 2, **Bold** 1")
    assert "Created preset" in result.text, result.text
    preset = await h.bot.presets.find_by_name(h.guild.id, name)
    assert [slot.name for slot in preset.slots] == ["Robert') OR 1=1 --", "**Bold**"]
    assert "\\*\\*Bold\\*\\*" in result.text
    assert result.reply.payload["data"]["allowed_mentions"]["parse"] == []
