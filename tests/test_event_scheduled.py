"""The Discord scheduled event that mirrors each event: created, edited and cancelled with it when
the bot has Create Events (recorded by the fake Discord, which holds Discord's rules for it), never
touched once Discord completed it, and skipped without any failure when the permission is missing,
which `/config show` then says once."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import discord
import pytest

from tests.harness import BOT_PERMISSIONS, DEFAULT_ROLES, World
from tests.test_events_manage import START_TEXT, configure, create_event, modal_values

WITH_CREATE_EVENTS = BOT_PERMISSIONS | discord.Permissions(create_events=True)


def world_with(permissions: discord.Permissions) -> World:
    roles = tuple(replace(role, permissions=permissions) if role.name == "Rollcall" else role for role in DEFAULT_ROLES)
    return World(roles=roles)


@pytest.fixture
def world() -> World:
    return world_with(WITH_CREATE_EVENTS)


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment)


async def test_creating_an_event_creates_an_external_scheduled_event(h, discord_side):
    await configure(h)
    event = await create_event(h, description="Bring potions", location="Castle")
    [created] = discord_side.of_kind("scheduled_event_create")
    body = created.payload
    assert body["name"] == "Raid night"
    assert body["entity_type"] == discord.EntityType.external.value
    assert body["entity_metadata"] == {"location": "Castle"}
    assert "channel_id" not in body
    assert parse(body["scheduled_start_time"]) == event.starts_at
    assert parse(body["scheduled_end_time"]) == event.ends_at
    assert body["description"].startswith("Bring potions")
    assert f"/{event.message_id}" in body["description"]
    stored = await h.bot.events.get(event.id)
    assert stored.scheduled_event_id == created.message_id
    assert discord_side.scheduled_events.stored[created.message_id]["status"] == 1


async def test_an_event_without_a_location_points_to_its_post(h, discord_side):
    await configure(h)
    await create_event(h)
    [created] = discord_side.of_kind("scheduled_event_create")
    assert created.payload["entity_metadata"] == {"location": "See the event post"}


async def test_editing_the_event_edits_its_scheduled_event(h, discord_side):
    await configure(h)
    event = await create_event(h, location="Castle")
    form = (await h.command("event edit", user="admin", event=event.id)).modal
    values = modal_values(form, "Raid night II", "", "2026-11-28 20:00", "23:00", "Tower")
    result = await h.submit_modal(form, values, user="admin")
    assert "Saved" in result.text
    [edited] = discord_side.of_kind("scheduled_event_edit")
    assert edited.message_id == (await h.bot.events.get(event.id)).scheduled_event_id
    assert edited.payload["name"] == "Raid night II"
    assert edited.payload["entity_metadata"] == {"location": "Tower"}
    moved = await h.bot.events.get(event.id)
    assert parse(edited.payload["scheduled_start_time"]) == moved.starts_at
    assert parse(edited.payload["scheduled_end_time"]) == moved.ends_at


async def test_cancelling_the_event_cancels_its_scheduled_event(h, discord_side):
    await configure(h)
    event = await create_event(h)
    asked = await h.command("event cancel", user="admin", event=event.id)
    await h.click(asked.reply, asked.reply.custom_ids[0], user="admin")
    [cancelled] = discord_side.of_kind("scheduled_event_edit")
    assert cancelled.payload["status"] == discord.EventStatus.cancelled.value
    scheduled_id = (await h.bot.events.get(event.id)).scheduled_event_id
    assert discord_side.scheduled_events.stored[scheduled_id]["status"] == 4


async def test_a_scheduled_event_discord_completed_is_never_edited(h, discord_side, clock):
    await configure(h)
    event = await create_event(h)
    scheduled_id = (await h.bot.events.get(event.id)).scheduled_event_id
    discord_side.scheduled_events.complete(scheduled_id)
    form = (await h.command("event edit", user="admin", event=event.id)).modal
    values = modal_values(form, "Renamed", "", START_TEXT, "2026-11-28 22:00", "")
    assert "Saved" in (await h.submit_modal(form, values, user="admin")).text
    assert discord_side.of_kind("scheduled_event_edit") == []


async def test_an_active_scheduled_event_is_ended_not_cancelled(h, discord_side, clock):
    await configure(h)
    event = await create_event(h)
    scheduled_id = (await h.bot.events.get(event.id)).scheduled_event_id
    clock.set(event.starts_at)
    discord_side.scheduled_events.start(scheduled_id)
    asked = await h.command("event cancel", user="admin", event=event.id)
    await h.click(asked.reply, asked.reply.custom_ids[0], user="admin")
    [ended] = discord_side.of_kind("scheduled_event_edit")
    assert ended.payload == {"status": discord.EventStatus.completed.value}


async def test_each_new_occurrence_of_a_series_gets_its_own_scheduled_event(h, discord_side, clock):
    await configure(h)
    first = await create_event(h, repeat="weekly")
    clock.set(first.ends_at)
    await h.bot.run_due_jobs()
    created = discord_side.of_kind("scheduled_event_create")
    assert len(created) == 2
    second = await h.bot.events.get(await h.bot.db.fetch_value("SELECT max(id) FROM event"))
    assert second.scheduled_event_id == created[1].message_id
    assert parse(created[1].payload["scheduled_start_time"]) == second.starts_at


async def test_a_scheduled_event_deleted_in_discord_is_forgotten(h, discord_side):
    await configure(h)
    event = await create_event(h)
    scheduled_id = (await h.bot.events.get(event.id)).scheduled_event_id
    del discord_side.scheduled_events.stored[scheduled_id]
    form = (await h.command("event edit", user="admin", event=event.id)).modal
    values = modal_values(form, "Renamed", "", START_TEXT, "2026-11-28 22:00", "")
    assert "Saved" in (await h.submit_modal(form, values, user="admin")).text
    assert (await h.bot.events.get(event.id)).scheduled_event_id is None


async def test_config_show_has_no_warning_with_create_events(h):
    await configure(h)
    shown = await h.command("config show", user="admin")
    assert "Create Events" not in shown.text


class TestWithoutCreateEvents:
    """Manage Events alone (the harness's default bot role) does not allow creating one."""

    @pytest.fixture
    def world(self) -> World:
        return world_with(BOT_PERMISSIONS)

    async def test_nothing_is_mirrored_and_nothing_fails(self, h, discord_side):
        assert BOT_PERMISSIONS.manage_events and not BOT_PERMISSIONS.create_events
        await configure(h)
        event = await create_event(h)
        form = (await h.command("event edit", user="admin", event=event.id)).modal
        values = modal_values(form, "Renamed", "", START_TEXT, "2026-11-28 22:00", "")
        assert "Saved" in (await h.submit_modal(form, values, user="admin")).text
        asked = await h.command("event cancel", user="admin", event=event.id)
        await h.click(asked.reply, asked.reply.custom_ids[0], user="admin")
        assert (await h.bot.events.get(event.id)).cancelled_at is not None
        assert (await h.bot.events.get(event.id)).scheduled_event_id is None
        for kind in ("scheduled_event_create", "scheduled_event_edit", "scheduled_event_delete"):
            assert discord_side.of_kind(kind) == []

    async def test_config_show_says_so_once(self, h):
        await configure(h)
        shown = await h.command("config show", user="admin")
        assert shown.text.count("Create Events") == 1
        assert "not mirrored to Discord's scheduled events" in shown.text

    async def test_the_fake_discord_refuses_creating_one(self, h):
        guild = h.guild
        with pytest.raises(discord.Forbidden):
            await guild.create_scheduled_event(
                name="Direct",
                start_time=h.bot.clock.now().replace(year=2030),
                end_time=h.bot.clock.now().replace(year=2031),
                location="Here",
                entity_type=discord.EntityType.external,
                privacy_level=discord.PrivacyLevel.guild_only,
            )


class TestWithManageEventsOnlyAfterCreation:
    """A mirror made while the bot had Create Events is still kept up to date with Manage Events."""

    async def test_edit_and_cancel_work_with_manage_events_alone(self, h, discord_side, restart, running):
        await configure(h)
        event = await create_event(h)
        running.world.roles = world_with(BOT_PERMISSIONS).roles
        h = await restart()
        assert not h.guild.me.guild_permissions.create_events
        asked = await h.command("event cancel", user="admin", event=event.id)
        await h.click(asked.reply, asked.reply.custom_ids[0], user="admin")
        [cancelled] = discord_side.of_kind("scheduled_event_edit")
        assert cancelled.payload["status"] == discord.EventStatus.cancelled.value
