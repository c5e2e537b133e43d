"""/preset create, list, show, edit, delete and slot_role: slot text parsing (every accepted
form and every refusal, nothing saved on a refusal), case-insensitive names per guild, the
persistent list pages, and the `preset` option's autocomplete."""

from __future__ import annotations

import pytest

from storage.errors import UniqueViolation
from tests.test_events_create import configure


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


async def submit_preset(h, name: str, slots: str, *, description: str = "", user: str = "admin"):
    opened = await h.command("preset create", user=user, channel="general")
    values = {"preset_name": name, "preset_slots": slots}
    if description:
        values["preset_description"] = description
    return await h.submit_modal(opened.modal, values, user=user, channel="general")


async def made(h, name: str = "Raid", slots: str = "Tank 2, Healer 2, DPS 6", **kwargs):
    result = await submit_preset(h, name, slots, **kwargs)
    assert "Created preset" in result.text, result.text
    return await h.bot.presets.find_by_name(h.guild.id, name)


async def preset_count(h) -> int:
    return int(await h.bot.db.fetch_value("SELECT count(*) FROM preset"))


def shape(preset) -> list[tuple[str, int, int | None]]:
    return [(slot.name, slot.seats, slot.role_id) for slot in preset.slots]


# ---- accepted forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Tank 2, Healer 2, DPS 6", [("Tank", 2), ("Healer", 2), ("DPS", 6)]),
        ("Tank 2\nHealer 2\nDPS 6\n", [("Tank", 2), ("Healer", 2), ("DPS", 6)]),
        ("Tank x2, Healer: 2 , DPS   6", [("Tank", 2), ("Healer", 2), ("DPS", 6)]),
        ("🛡️ Tank 2, Heiler·in 3, 治疗 1", [("🛡️ Tank", 2), ("Heiler·in", 3), ("治疗", 1)]),
        ("Team 2 3", [("Team 2", 3)]),
        ("Solo 1, Crowd 100", [("Solo", 1), ("Crowd", 100)]),
    ],
)
async def test_each_accepted_slot_form_is_read(configured, typed, expected):
    h = configured
    preset = await made(h, "Raid", typed)
    assert [(slot.name, slot.seats) for slot in preset.slots] == expected
    assert preset.total == sum(seats for _, seats in expected)


async def test_a_role_written_after_the_number_is_the_slots_role(configured):
    h = configured
    preset = await made(h, "Class", f"Healer 2 @student, Guest 3, Mod 1 <@&{h.role('Moderators').id}>")
    assert shape(preset) == [
        ("Healer", 2, h.role("Student").id),
        ("Guest", 3, None),
        ("Mod", 1, h.role("Moderators").id),
    ]


async def test_the_reply_shows_the_slots_and_the_total(configured):
    result = await submit_preset(configured, "Raid", "Tank 2, Healer 2, DPS 6", description="Weekly raid")
    assert result.ephemeral
    assert "Tank 2 · Healer 2 · DPS 6" in result.text and "10 seats" in result.text


# ---- refusals: nothing saved, what was typed given back -------------------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("Tank", "whole number of seats"),
        ("Tank two", "whole number of seats"),
        ("2", "whole number of seats"),
        (": 2", "no slot name"),
        ("Tank 0", "a slot takes 1 to 100"),
        ("Tank -1", "a slot takes 1 to 100"),
        ("Tank 101", "a slot takes 1 to 100"),
        ("Tank 2, tank 3", "given twice"),
        ("Tank 2, TANK  2", "given twice"),
        (", , ,", "No slots were given"),
        (", ".join(f"Slot{i} 1" for i in range(26)), "at most 25 fit"),
        ("Healer @Student 2", "role must come after the number"),
        ("Healer 2 @Nobody", "no role called"),
        ("Healer 2 @everyone", "@everyone can't be"),
        ("Healer 2 <@&12345>", "not a role of this server"),
        ("A" * 41 + " 2", "at most 40 fit"),
    ],
)
async def test_every_bad_slot_text_is_refused_with_an_example_and_saves_nothing(configured, typed, said):
    h = configured
    result = await submit_preset(h, "Raid night", typed, description="Our raid")
    assert result.ephemeral
    assert said in result.text, result.text
    assert "Nothing was saved" in result.text
    assert "Raid night" in result.text  # what was typed comes back
    assert ("Tank 2" in result.text) or ("@Healers" in result.text) or ("@Student" in result.text)
    assert await preset_count(h) == 0
    assert await h.bot.audit.list(h.guild.id, action_prefix="preset.") == []


async def test_try_again_reopens_the_form_with_what_was_typed(configured):
    h = configured
    refused = await submit_preset(h, "Raid night", "Tank 0", description="Our raid")
    [again] = refused.reply.custom_ids
    reopened = await h.click(refused.reply, again, user="admin")
    values = {
        component["custom_id"]: component.get("value")
        for row in reopened.modal["components"]
        for component in row["components"]
    }
    assert values == {"preset_name": "Raid night", "preset_slots": "Tank 0", "preset_description": "Our raid"}
    fixed = await h.submit_modal(reopened.modal, {"preset_slots": "Tank 2"}, user="admin", channel="general")
    assert "Created preset **Raid night**" in fixed.text


async def test_a_name_of_only_spaces_is_refused(configured):
    h = configured
    result = await submit_preset(h, "   ", "Tank 2")
    assert "only spaces" in result.text and "Raid night" in result.text
    assert await preset_count(h) == 0


# ---- names: unique per guild, any case ---------------------------------------------------


@pytest.mark.parametrize("second", ["raid night", "RAID NIGHT", "Raid  Night", " raid night "])
async def test_a_name_taken_in_any_case_is_refused(configured, second):
    h = configured
    await made(h, "Raid Night")
    result = await submit_preset(h, second, "Healer 4")
    assert "already has a preset called **Raid Night**" in result.text
    assert "Nothing was saved" in result.text and "Healer 4" in result.text
    assert await preset_count(h) == 1


async def test_unicode_names_compare_without_case(configured):
    h = configured
    await made(h, "Überfall")
    result = await submit_preset(h, "ÜBERFALL", "Tank 1")
    assert "already has a preset" in result.text
    assert await preset_count(h) == 1


async def test_the_same_name_is_free_in_another_guild(configured, clock):
    h = configured
    await made(h, "Raid")
    theirs = await h.bot.presets.create(
        guild_id=h.guild.id + 1, name="RAID", description="", slots=[], actor_id=1, now=clock.now()
    )
    assert theirs.guild_id == h.guild.id + 1
    assert await preset_count(h) == 2


async def test_the_unique_index_itself_refuses_an_ascii_case_twin(configured):
    h = configured
    await made(h, "Raid")
    now = h.bot.clock.now()

    with pytest.raises(UniqueViolation):
        await h.bot.db.execute(
            "INSERT INTO preset (guild_id, name, created_by, created_at, updated_at) VALUES (?, 'rAiD', 1, ?, ?)",
            (h.guild.id, now, now),
        )


# ---- list, show, autocomplete ------------------------------------------------------------


async def test_list_shows_slots_and_totals_with_pages_that_survive_a_restart(configured, restart):
    h = configured
    for index in range(12):
        await made(h, f"Preset {index:02d}", f"Tank {index + 1}, DPS 2")
    listed = await h.command("preset list", user="admin", channel="general")
    assert listed.ephemeral
    assert "Preset 00 · 3 seats" in listed.text and "Tank 1, DPS 2" in listed.text
    assert "Page 1 of 2 · 12 presets" in listed.text
    assert "Preset 10" not in listed.text
    assert listed.reply.custom_ids == ["rollcall:preset:list:0", "rollcall:preset:list:1"]
    h = await restart()
    page_two = await h.click(listed.reply, "rollcall:preset:list:1", user="admin")
    assert "Preset 10 · 13 seats" in page_two.text and "Page 2 of 2" in page_two.text


async def test_an_empty_list_says_how_to_create_one(configured):
    listed = await configured.command("preset list", user="admin", channel="general")
    assert "/preset create" in listed.text


async def test_show_gives_description_slots_and_roles(configured):
    h = configured
    await made(h, "Class", "Healer 2 @Student, Guest 3", description="Tuesday lab")
    shown = await h.command("preset show", user="organizer", channel="general", preset="class")
    assert "Tuesday lab" in shown.text
    assert f"**Healer** — 2 seats · only <@&{h.role('Student').id}>" in shown.text
    assert "5 seats in all" in shown.text


async def test_show_of_an_unknown_preset_says_how_to_find_one(configured):
    shown = await configured.command("preset show", user="admin", channel="general", preset="Nope")
    assert "No preset called `Nope`" in shown.text and "/preset list" in shown.text


async def test_preset_options_autocomplete_by_name_in_any_case(configured):
    h = configured
    for name in ("Raid night", "Dungeon run", "Raid 🗡️ heroic"):
        await made(h, name)
    choices = await h.autocomplete("preset show", "preset", user="admin", channel="general", preset="RAID")
    assert [choice["value"] for choice in choices] == ["Raid night", "Raid 🗡️ heroic"]
    all_choices = await h.autocomplete("event create", "preset", user="admin", channel="general", preset="")
    assert len(all_choices) == 3


# ---- edit --------------------------------------------------------------------------------


async def test_edit_opens_the_form_prefilled(configured):
    h = configured
    await made(h, "Class", "Healer 2 @Student, Guest 3", description="Tuesday lab")
    opened = await h.command("preset edit", user="admin", channel="general", preset="Class")
    values = {
        component["custom_id"]: component.get("value")
        for row in opened.modal["components"]
        for component in row["components"]
    }
    assert values == {
        "preset_name": "Class",
        "preset_slots": "Healer 2 @Student\nGuest 3",
        "preset_description": "Tuesday lab",
    }


async def test_edit_saves_new_slots_and_is_audited(configured):
    h = configured
    preset = await made(h, "Raid")
    opened = await h.command("preset edit", user="admin", channel="general", preset="Raid")
    saved = await h.submit_modal(
        opened.modal, {"preset_name": "Big raid", "preset_slots": "Tank 3, DPS 9"}, user="admin", channel="general"
    )
    assert "Saved preset **Big raid**" in saved.text
    after = await h.bot.presets.get_in_guild(h.guild.id, preset.id)
    assert (after.name, shape(after)) == ("Big raid", [("Tank", 3, None), ("DPS", 9, None)])
    [entry] = await h.bot.audit.list(h.guild.id, action_prefix="preset.edit")
    assert entry.before_value == "Raid: Tank 2, Healer 2, DPS 6" and entry.after_value == "Big raid: Tank 3, DPS 9"


async def test_edit_may_keep_its_own_name_in_another_case_but_not_take_anothers(configured):
    h = configured
    await made(h, "Raid")
    await made(h, "Dungeon", "Tank 1")
    opened = await h.command("preset edit", user="admin", channel="general", preset="Raid")
    own = await h.submit_modal(opened.modal, {"preset_name": "RAID"}, user="admin", channel="general")
    assert "Saved preset **RAID**" in own.text
    opened = await h.command("preset edit", user="admin", channel="general", preset="raid")
    taken = await h.submit_modal(opened.modal, {"preset_name": "dungeon"}, user="admin", channel="general")
    assert "already has a preset called **Dungeon**" in taken.text
    assert (await h.bot.presets.find_by_name(h.guild.id, "raid")).name == "RAID"


async def test_a_refused_edit_changes_nothing(configured):
    h = configured
    preset = await made(h, "Raid")
    opened = await h.command("preset edit", user="admin", channel="general", preset="Raid")
    refused = await h.submit_modal(opened.modal, {"preset_slots": "Tank 2, Tank 3"}, user="admin", channel="general")
    assert "given twice" in refused.text and "Nothing was saved" in refused.text
    assert shape(await h.bot.presets.get_in_guild(h.guild.id, preset.id)) == shape(preset)


# ---- delete and slot_role ----------------------------------------------------------------


async def test_delete_asks_first_and_keep_it_changes_nothing(configured):
    h = configured
    await made(h, "Raid")
    asked = await h.command("preset delete", user="admin", channel="general", preset="raid")
    assert "Delete the preset **Raid**" in asked.text
    _delete_id, keep_id = asked.reply.custom_ids
    kept = await h.click(asked.reply, keep_id, user="admin")
    assert "Kept" in kept.response.text
    assert await preset_count(h) == 1


async def test_delete_on_confirm_removes_it_and_audits(configured):
    h = configured
    await made(h, "Raid")
    asked = await h.command("preset delete", user="admin", channel="general", preset="Raid")
    delete_id, _ = asked.reply.custom_ids
    done = await h.click(asked.reply, delete_id, user="admin")
    assert "Deleted the preset **Raid**" in done.response.text
    assert await preset_count(h) == 0
    assert int(await h.bot.db.fetch_value("SELECT count(*) FROM preset_slot")) == 0
    assert [e.action for e in await h.bot.audit.list(h.guild.id, action_prefix="preset.")] == [
        "preset.delete",
        "preset.create",
    ]


async def test_slot_role_sets_and_clears_a_slots_role(configured):
    h = configured
    await made(h, "Raid")
    choices = await h.autocomplete(
        "preset slot_role", "slot", user="admin", channel="general", preset="Raid", slot="heal"
    )
    assert [choice["value"] for choice in choices] == ["Healer"]
    done = await h.command(
        "preset slot_role", user="admin", channel="general", preset="Raid", slot="healer", role=h.role("Student")
    )
    assert f"now open to members with <@&{h.role('Student').id}>" in done.text
    preset = await h.bot.presets.find_by_name(h.guild.id, "Raid")
    assert preset.slots[1].role_id == h.role("Student").id
    cleared = await h.command("preset slot_role", user="admin", channel="general", preset="Raid", slot="Healer")
    assert "open to everyone" in cleared.text
    assert (await h.bot.presets.find_by_name(h.guild.id, "Raid")).slots[1].role_id is None


async def test_slot_role_refuses_an_unknown_slot_and_everyone(configured):
    h = configured
    await made(h, "Raid")
    unknown = await h.command("preset slot_role", user="admin", channel="general", preset="Raid", slot="Bard")
    assert "no slot called `Bard`" in unknown.text and "`Tank`" in unknown.text
    everyone = await h.command(
        "preset slot_role", user="admin", channel="general", preset="Raid", slot="Tank", role=h.guild.default_role
    )
    assert "@everyone can't be" in everyone.text
    assert all(slot.role_id is None for slot in (await h.bot.presets.find_by_name(h.guild.id, "Raid")).slots)
