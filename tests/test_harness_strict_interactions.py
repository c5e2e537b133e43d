"""The fake Discord is as strict as the real one about interactions (receiving-and-responding,
components reference, opcodes-and-status-codes): each rule refuses what Discord refuses and
accepts what Discord accepts, and where the bot meets the rule its own handling is tested."""

from __future__ import annotations

import logging
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.http import Route

from bot.tree import RollcallModal, RollcallView
from tests.harness import APP_ID, INVALID_FORM_BODY, ImpossibleInteraction

EPHEMERAL = 64


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


def warned(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


async def webhook(discord_side: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """A raw call on the interaction webhook, as discord.py's adapter makes it."""
    return await discord_side.webhook_request(Route(method, path), None, {"payload": body, "multipart": None})


async def callback(discord_side: Any, payload: dict[str, Any], body: dict[str, Any]) -> Any:
    return await webhook(discord_side, "POST", f"/interactions/{payload['id']}/{payload['token']}/callback", body)


def add(h: Any, command: app_commands.Command | app_commands.Group) -> None:
    h.bot.tree.add_command(command)


def kept(h: Any, name: str, into: list[discord.Interaction], *, defer: bool = False) -> None:
    """A command that keeps its interaction, so the test can use the token later."""

    @app_commands.command(name=name, description="Keeps its interaction")
    async def keep(interaction: discord.Interaction) -> None:
        into.append(interaction)
        if defer:
            await interaction.response.defer(ephemeral=True, thinking=True)
        else:
            await interaction.response.send_message("kept", ephemeral=True)

    add(h, keep)


# ---- 1. the token's life ----------------------------------------------------------------------


async def test_an_answer_after_3_seconds_is_unknown_interaction_and_the_bot_warns_once(
    h, clock, discord_side, warnings, error_log
):
    payload = h.command_payload("help", user=h.member("member"))
    h.dispatch_nowait(payload)
    clock.advance(seconds=3.5)  # the handler has not run yet: its answer comes 3.5 s late
    await h.idle()
    assert [s.kind for s in discord_side.sent if s.interaction_id == int(payload["id"])] == []
    assert len(warned(warnings, "Too late to answer /help")) == 1
    assert not [r for r in warnings.records if r.levelno >= logging.ERROR]


async def test_an_answer_at_3_seconds_is_still_on_time(h, clock):
    payload = h.command_payload("help", user=h.member("member"))
    h.dispatch_nowait(payload)
    clock.advance(seconds=3)
    await h.idle()
    assert int(payload["id"]) in h.discord.responded


async def test_a_handler_that_takes_too_long_gets_10062(h, clock):
    caught: list[int] = []

    @app_commands.command(name="slow", description="Works for 4 s before answering")
    async def slow(interaction: discord.Interaction) -> None:
        clock.advance(seconds=4)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as error:
            caught.append(error.code)

    add(h, slow)
    result = await h.command("slow", user="member")
    assert caught == [10062]
    assert result.sent == []


async def test_webhook_calls_after_15_minutes_are_refused_with_50027(h, clock):
    interactions: list[discord.Interaction] = []
    kept(h, "keep", interactions)
    await h.command("keep", user="member")
    interaction = interactions[0]
    clock.advance(minutes=14, seconds=59)
    later = await interaction.followup.send("still in time", wait=True)
    clock.advance(seconds=2)
    for late_call in (
        interaction.followup.send("too late"),
        interaction.edit_original_response(content="too late"),
        interaction.delete_original_response(),
        later.edit(content="too late"),
    ):
        with pytest.raises(discord.HTTPException) as refused:
            await late_call
        assert (refused.value.status, refused.value.code) == (401, 50027)


async def test_a_followup_before_any_acknowledgement_is_unknown_webhook(h):
    caught: list[int] = []

    @app_commands.command(name="early", description="Follows up before answering")
    async def early(interaction: discord.Interaction) -> None:
        try:
            await interaction.followup.send("too early")
        except discord.NotFound as error:
            caught.append(error.code)
        await interaction.response.send_message("answered")

    add(h, early)
    result = await h.command("early", user="member")
    assert caught == [10015]
    assert [s.kind for s in result.own] == ["response"]


async def test_a_second_initial_response_is_already_acknowledged(h, discord_side):
    payload = h.command_payload("help", user=h.member("member"))
    await callback(discord_side, payload, {"type": 4, "data": {"content": "first"}})
    with pytest.raises(discord.HTTPException) as refused:
        await callback(discord_side, payload, {"type": 4, "data": {"content": "second"}})
    assert (refused.value.status, refused.value.code) == (400, 40060)


async def test_the_first_followup_after_a_defer_replaces_the_loading_message_and_stays_ephemeral(h, discord_side):
    sent: list[discord.WebhookMessage] = []

    @app_commands.command(name="think", description="Defers ephemerally, then follows up twice")
    async def think(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        sent.append(await interaction.followup.send("done", ephemeral=False, wait=True))
        sent.append(await interaction.followup.send("and more", ephemeral=False, wait=True))

    add(h, think)
    result = await h.command("think", user="member")
    placeholder_id = discord_side.original_messages[result.interaction_id]
    first, second = result.of_kind("followup")
    assert sent[0].id == first.message_id == placeholder_id
    assert discord_side.messages[placeholder_id]["content"] == "done"
    assert discord_side.messages[placeholder_id]["flags"] & EPHEMERAL
    assert first.ephemeral and result.reply is first
    assert sent[1].id == second.message_id != placeholder_id
    assert not second.ephemeral


async def test_editing_the_deferred_response_keeps_its_ephemeral_flag(h, discord_side):
    @app_commands.command(name="think", description="Defers ephemerally, then edits")
    async def think(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.edit_original_response(content="done")
        await interaction.followup.send("a new message", ephemeral=True)

    add(h, think)
    result = await h.command("think", user="member")
    placeholder_id = discord_side.original_messages[result.interaction_id]
    assert discord_side.messages[placeholder_id]["content"] == "done"
    assert discord_side.messages[placeholder_id]["flags"] & EPHEMERAL
    assert result.reply.ephemeral
    (followup,) = result.of_kind("followup")
    assert followup.message_id != placeholder_id


# ---- 2. callback types ------------------------------------------------------------------------


MODAL_BODY = {
    "title": "T",
    "custom_id": "rollcall:test:m",
    "components": [{"type": 1, "components": [{"type": 4, "custom_id": "rollcall:test:i", "label": "L", "style": 1}]}],
}


def valid_body(callback_type: int) -> dict[str, Any]:
    """A body Discord's form checks accept for this callback type, so only the type can be wrong."""
    data = {8: {"choices": []}, 9: MODAL_BODY}.get(callback_type, {"content": "ok"})
    return {"type": callback_type, "data": data}


async def expect_type_refused(discord_side: Any, payload: dict[str, Any], callback_type: int) -> None:
    with pytest.raises(discord.HTTPException) as refused:
        await callback(discord_side, payload, valid_body(callback_type))
    assert (refused.value.status, refused.value.code) == (400, INVALID_FORM_BODY)
    assert "In type: Value must be one of" in refused.value.text


@pytest.mark.parametrize("callback_type", [6, 7, 8])
async def test_a_command_cannot_be_answered_with_an_update_or_choices(h, discord_side, callback_type):
    await expect_type_refused(discord_side, h.command_payload("help", user=h.member("member")), callback_type)


@pytest.mark.parametrize("callback_type", [4, 5, 9])
async def test_a_command_can_be_answered_with_a_message_a_defer_or_a_modal(h, discord_side, callback_type):
    payload = h.command_payload("help", user=h.member("member"))
    body = valid_body(callback_type)
    await callback(discord_side, payload, body)
    assert int(payload["id"]) in discord_side.responded


async def test_autocomplete_takes_only_choices(h, discord_side):
    member = h.member("admin")
    refused = h.command_payload("attendance export", user=member, focused="session", session="")
    await expect_type_refused(discord_side, refused, 4)
    accepted = h.command_payload("attendance export", user=member, focused="session", session="")
    await callback(discord_side, accepted, {"type": 8, "data": {"choices": []}})


async def test_a_modal_submit_cannot_open_another_modal_nor_update_a_message_it_has_not(h, discord_side):
    modal = {"title": "T", "custom_id": "rollcall:test:m", "components": []}
    await expect_type_refused(discord_side, h.modal_payload(modal, {}, user=h.member("member")), 9)
    with pytest.raises(discord.NotFound) as unknown:
        await callback(discord_side, h.modal_payload(modal, {}, user=h.member("member")), {"type": 7, "data": {}})
    assert unknown.value.code == 10008
    await callback(discord_side, h.modal_payload(modal, {}, user=h.member("member")), {"type": 4, "data": {}})


class OpenFromButton(RollcallView):
    @discord.ui.button(label="Edit", custom_id="rollcall:test:open")
    async def open(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_modal(RenameModal())


class RenameModal(RollcallModal, title="Rename"):
    name = discord.ui.TextInput(label="Name", custom_id="rollcall:test:name")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"renamed to {self.name.value}")


async def test_a_modal_opened_from_a_component_may_update_that_components_message(h, discord_side):
    await h.channel("general").send("original", view=OpenFromButton())
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    opened = await h.click(message, "rollcall:test:open", user="member")
    submitted = await h.submit_modal(opened.modal, {"rollcall:test:name": "new"}, user="member")
    assert submitted.response.response_type == 7
    assert discord_side.messages[message.message_id]["content"] == "renamed to new"


# ---- 3. ephemeral messages are not channel messages ------------------------------------------


async def test_an_ephemeral_reply_is_not_found_through_the_channel_routes(h, discord_side):
    @app_commands.command(name="both", description="Answers privately, then publicly")
    async def both(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("private", ephemeral=True)
        await interaction.followup.send("public")

    add(h, both)
    result = await h.command("both", user="member")
    private_id = discord_side.original_messages[result.interaction_id]
    (public,) = result.of_kind("followup")
    private = h.channel("general").get_partial_message(private_id)
    for call in (private.fetch, lambda: private.edit(content="edited"), private.delete):
        with pytest.raises(discord.NotFound) as unknown:
            await call()
        assert unknown.value.code == 10008
    assert discord_side.messages[private_id]["content"] == "private"
    assert (await h.channel("general").fetch_message(public.message_id)).content == "public"


# ---- 4. interactions in a DM -------------------------------------------------------------------


async def test_a_dm_command_is_shaped_as_discord_sends_it(h, discord_side):
    member = h.member("member")
    payload = h.dm_command_payload("help", user=member)
    assert payload["context"] == 1
    assert "user" in payload and "member" not in payload and "guild_id" not in payload
    assert payload["channel"]["type"] == 1
    assert payload["authorizing_integration_owners"] == {"0": "0"}
    assert int(payload["channel_id"]) == discord_side.dm_channel_id(member.id)


async def test_a_server_only_command_is_not_offered_in_a_dm(h, discord_side):
    for name in ("attendance open", "config set"):
        with pytest.raises(ImpossibleInteraction, match="does not offer"):
            h.dm_command_payload(name, user=h.member("admin"))
    result = await h.dm_command("help", user="member")
    assert result.text


# ---- 5. selects ---------------------------------------------------------------------------------


class Pickers(RollcallView):
    @discord.ui.select(cls=discord.ui.UserSelect, custom_id="rollcall:test:who", max_values=2)
    async def who(self, interaction: discord.Interaction, select: discord.ui.UserSelect) -> None:
        names = sorted(user.display_name for user in select.values)
        await interaction.response.send_message(f"users {names}", ephemeral=True)

    @discord.ui.select(cls=discord.ui.RoleSelect, custom_id="rollcall:test:role")
    async def role(self, interaction: discord.Interaction, select: discord.ui.RoleSelect) -> None:
        await interaction.response.send_message(f"role {select.values[0].name}", ephemeral=True)

    @discord.ui.select(
        cls=discord.ui.ChannelSelect, custom_id="rollcall:test:where", channel_types=[discord.ChannelType.text]
    )
    async def where(self, interaction: discord.Interaction, select: discord.ui.ChannelSelect) -> None:
        await interaction.response.send_message(f"channel {select.values[0].name}", ephemeral=True)

    @discord.ui.select(
        custom_id="rollcall:test:pick", options=[discord.SelectOption(label=x) for x in "abc"], max_values=2
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)


async def posted_pickers(h: Any, discord_side: Any) -> Any:
    await h.channel("general").send("pick", view=Pickers())
    return discord_side.channel_messages(h.channel("general").id)[-1]


async def test_user_role_and_channel_selects_carry_resolved_objects(h, discord_side):
    message = await posted_pickers(h, discord_side)
    users = await h.select(message, "rollcall:test:who", [h.member("student"), h.member("admin")], user="member")
    assert users.text == "users ['admin', 'student']"
    role = await h.select(message, "rollcall:test:role", [str(h.role("Organizer").id)], user="member")
    assert role.text == "role Organizer"
    channel = await h.select(message, "rollcall:test:where", [h.channel("log")], user="member")
    assert channel.text == "channel log"
    payload = h.component_payload(message, "rollcall:test:who", user=h.member("member"), values=[h.member("student")])
    resolved = payload["data"]["resolved"]
    assert set(resolved) == {"users", "members"}
    assert list(resolved["members"]) == [str(h.member("student").id)]


async def test_selects_refuse_what_the_client_would_not_let_a_member_choose(h, discord_side):
    message = await posted_pickers(h, discord_side)
    member = h.member("member")
    impossible = [
        ("rollcall:test:pick", ["z"]),  # not an option
        ("rollcall:test:pick", ["a", "b", "c"]),  # over max_values
        ("rollcall:test:pick", []),  # under min_values
        ("rollcall:test:role", [member]),  # a member in a role select
        ("rollcall:test:who", [h.role("Admin")]),  # a role in a user select
    ]
    for custom_id, values in impossible:
        with pytest.raises(ImpossibleInteraction):
            h.component_payload(message, custom_id, user=member, values=values)
    accepted = await h.select(message, "rollcall:test:pick", ["a", "c"], user="member")
    assert accepted.text == "picked ['a', 'c']"


# ---- 6. modal submits -------------------------------------------------------------------------


class ProfileModal(RollcallModal, title="Profile"):
    nickname = discord.ui.TextInput(label="Nickname", custom_id="rollcall:test:nick", default="Sam", max_length=8)
    code = discord.ui.TextInput(label="Code", custom_id="rollcall:test:code", min_length=4, required=False)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"{self.nickname.value}|{self.code.value}", ephemeral=True)


async def opened_profile(h: Any) -> dict[str, Any]:
    @app_commands.command(name="profile", description="Opens a prefilled modal")
    async def profile(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(ProfileModal())

    add(h, profile)
    return (await h.command("profile", user="member")).modal


async def test_a_modal_submit_keeps_prefilled_values(h):
    modal = await opened_profile(h)
    assert (await h.submit_modal(modal, {}, user="member")).text == "Sam|"
    reopened = (await h.command("profile", user="member")).modal
    assert (await h.submit_modal(reopened, {"rollcall:test:code": "1234"}, user="member")).text == "Sam|1234"


async def test_a_modal_submit_breaking_its_inputs_limits_cannot_be_built(h):
    modal = await opened_profile(h)
    member = h.member("member")
    for values in (
        {"rollcall:test:nick": ""},  # required
        {"rollcall:test:nick": "x" * 9},  # over max_length
        {"rollcall:test:code": "123"},  # under min_length
        {"rollcall:test:other": "x"},  # no such input
    ):
        with pytest.raises(ImpossibleInteraction):
            h.modal_payload(modal, values, user=member)


# ---- 7. command sync ----------------------------------------------------------------------------


def command(name: str = "probe", **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": "A probe", "type": 1, "options": [], **fields}


def option(name: str, *, required: bool = False, **fields: Any) -> dict[str, Any]:
    return {"name": name, "description": "An option", "type": 3, "required": required, **fields}


async def sync(h: Any, commands: list[dict[str, Any]]) -> Any:
    return await h.bot.http.bulk_upsert_global_commands(APP_ID, commands)


async def test_the_bots_real_command_tree_syncs_globally_and_to_a_guild(h, discord_side):
    before = len(discord_side.of_kind("sync"))
    await h.bot.tree.sync()
    h.bot.tree.copy_global_to(guild=h.guild)
    await h.bot.tree.sync(guild=h.guild)
    synced = discord_side.of_kind("sync")[before:]
    assert len(synced) == 2 and synced[0].payload["commands"] and not discord_side.refused


@pytest.mark.parametrize(
    ("bad", "where"),
    [
        (command("Probe"), ("0", "name")),
        (command("x" * 33), ("0", "name")),
        (command("two words"), ("0", "name")),
        (command(description=""), ("0", "description")),
        (command(description="d" * 101), ("0", "description")),
        (command(options=[option(f"o{i}") for i in range(26)]), ("0", "options")),
        (
            command(options=[option("o", choices=[{"name": str(i), "value": str(i)} for i in range(26)])]),
            ("0", "options", "0", "choices"),
        ),
        (
            command(options=[option("o", choices=[{"name": "n" * 101, "value": "v"}])]),
            ("0", "options", "0", "choices", "0", "name"),
        ),
        (command(options=[option("later"), option("first", required=True)]), ("0", "options")),
        (command(options=[option("Bad")]), ("0", "options", "0", "name")),
    ],
)
async def test_a_sync_breaking_discords_rules_is_refused_with_the_field_path(h, discord_side, bad, where):
    before = discord_side.of_kind("sync")
    with pytest.raises(discord.HTTPException) as refused:
        await sync(h, [bad])
    assert (refused.value.status, refused.value.code) == (400, INVALID_FORM_BODY)
    node = discord_side.refused[-1][1]
    for key in where:
        node = node[key]
    assert node["_errors"]
    assert discord_side.of_kind("sync") == before


async def test_a_sync_within_discords_rules_is_accepted(h, discord_side):
    good = command(
        "probe-it_2",
        description="d" * 100,
        options=[option("first", required=True), option("o", choices=[{"name": "n" * 100, "value": "v"}] * 25)]
        + [option(f"o{i}") for i in range(23)],
    )
    answered = await sync(h, [good] + [command(f"c{i}") for i in range(99)])
    assert len(answered) == 100


async def test_more_than_100_chat_input_commands_is_refused(h, discord_side):
    before = discord_side.of_kind("sync")
    with pytest.raises(discord.HTTPException) as refused:
        await sync(h, [command(f"c{i}") for i in range(101)])
    assert (refused.value.status, refused.value.code) == (400, 30032)
    assert discord_side.of_kind("sync") == before
