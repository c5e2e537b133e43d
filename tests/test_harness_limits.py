"""The fake Discord refuses what Discord refuses: every size limit answers 400 / 50035 with the
offending field's path, through the same code path the bot uses, and a payload exactly at
the limit passes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.http import Route

from tests.harness import APP_ID, INVALID_FORM_BODY


def text(length: int, letter: str = "x") -> str:
    return letter * length


def button(custom_id: str = "rollcall:test:b", label: str = "Go") -> dict[str, Any]:
    return {"type": 2, "style": 1, "custom_id": custom_id, "label": label}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def string_select(options: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": 3, "custom_id": "rollcall:test:s", "options": options, **extra}


def option(label: str = "a", value: str = "a", **extra: Any) -> dict[str, Any]:
    return {"label": label, "value": value, **extra}


def embed(**parts: Any) -> dict[str, Any]:
    return {"type": "rich", **parts}


def fields(count: int, name: str = "n", value: str = "v") -> list[dict[str, Any]]:
    return [{"name": name, "value": value, "inline": False} for _ in range(count)]


def assert_invalid_form_body(error: BaseException | None, path: str) -> None:
    assert isinstance(error, discord.HTTPException), f"expected Discord to refuse {path}, got {error!r}"
    assert error.status == 400
    assert error.code == INVALID_FORM_BODY
    assert f"In {path}:" in error.text, error.text


async def refusal(call: Awaitable[Any]) -> discord.HTTPException | None:
    """What Discord answered a call it refused, or None when it accepted it."""
    try:
        await call
    except discord.HTTPException as error:
        return error
    return None


async def post_message(h, payload: dict[str, Any]) -> Any:
    """A channel message through the bot's own REST client."""
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=h.channel("general").id)
    return await h.bot.http.request(route, json=payload)


# ---- channel messages: content, embeds, components ---------------------------------------------

OVER_LIMIT_MESSAGES = [
    ({"content": text(2001)}, "content"),
    ({"embeds": [embed(title="t")] * 11}, "embeds"),
    ({"embeds": [embed(title=text(257))]}, "embeds.0.title"),
    ({"embeds": [embed(description=text(4097))]}, "embeds.0.description"),
    ({"embeds": [embed(fields=fields(26))]}, "embeds.0.fields"),
    ({"embeds": [embed(fields=fields(1, name=text(257)))]}, "embeds.0.fields.0.name"),
    ({"embeds": [embed(fields=fields(2) + fields(1, value=text(1025)))]}, "embeds.0.fields.2.value"),
    ({"embeds": [embed(fields=fields(1, name=""))]}, "embeds.0.fields.0.name"),
    ({"embeds": [embed(fields=fields(1, value=""))]}, "embeds.0.fields.0.value"),
    ({"embeds": [embed(footer={"text": text(2049)})]}, "embeds.0.footer.text"),
    ({"embeds": [embed(author={"name": text(257)})]}, "embeds.0.author.name"),
    ({"embeds": [embed(description=text(4000)), embed(description=text(2001))]}, "embeds"),
    ({"components": [row(button())] * 6}, "components"),
    ({"components": [row(*[button(f"rollcall:test:{i}") for i in range(6)])]}, "components.0.components"),
    ({"components": [row(button(label=text(81)))]}, "components.0.components.0.label"),
    ({"components": [row(button(custom_id=text(101)))]}, "components.0.components.0.custom_id"),
    ({"components": [row(string_select([]))]}, "components.0.components.0.options"),
    (
        {"components": [row(string_select([option(value=str(i)) for i in range(26)]))]},
        "components.0.components.0.options",
    ),
    ({"components": [row(string_select([option()], placeholder=text(151)))]}, "components.0.components.0.placeholder"),
    ({"components": [row(string_select([option(label=text(101))]))]}, "components.0.components.0.options.0.label"),
    ({"components": [row(string_select([option(value=text(101))]))]}, "components.0.components.0.options.0.value"),
    (
        {"components": [row(string_select([option(description=text(101))]))]},
        "components.0.components.0.options.0.description",
    ),
]

AT_LIMIT_MESSAGES = [
    {"content": text(2000)},
    {"embeds": [embed(title="t")] * 10},
    # Every text part of one embed at its own limit adds up to exactly 6,000 characters.
    {
        "embeds": [
            embed(
                title=text(256),
                description=text(4096),
                fields=fields(1, name=text(256), value=text(1024)),
                footer={"text": text(112)},
                author={"name": text(256)},
            )
        ]
    },
    {"embeds": [embed(fields=fields(25))]},
    {"components": [row(*[button(f"rollcall:test:{r}:{i}", text(80)) for i in range(5)]) for r in range(5)]},
    {
        "components": [
            row(
                string_select(
                    [option(text(100), f"{i:03d}" + text(97), description=text(100)) for i in range(25)],
                    placeholder=text(150),
                    custom_id=text(100),
                )
            )
        ]
    },
]


async def test_each_over_limit_channel_message_is_refused_with_the_field_path(h, discord_side):
    # One bot for the whole table keeps the suite fast; each case names itself when it fails.
    for payload, path in OVER_LIMIT_MESSAGES:
        assert_invalid_form_body(await refusal(post_message(h, payload)), path)
    assert discord_side.channel_messages(h.channel("general").id) == []


async def test_channel_messages_at_the_limits_are_accepted(h, discord_side):
    for payload in AT_LIMIT_MESSAGES:
        await post_message(h, payload)
    assert len(discord_side.channel_messages(h.channel("general").id)) == len(AT_LIMIT_MESSAGES)


async def test_send_edit_and_dm_through_discord_py_are_checked(h, discord_side):
    channel = h.channel("general")
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(text(2001))
    assert_invalid_form_body(refused.value, "content")

    message = await channel.send(text(2000))
    too_long = discord.Embed(description="d").add_field(name="n", value=text(1025))
    with pytest.raises(discord.HTTPException) as refused:
        await message.edit(embed=too_long)
    assert_invalid_form_body(refused.value, "embeds.0.fields.0.value")
    assert refused.value.text == "Invalid Form Body\nIn embeds.0.fields.0.value: Must be 1024 or fewer in length."
    assert discord_side.stored_message(message.id)["embeds"] == []
    with pytest.raises(discord.HTTPException) as refused:
        await message.edit(embed=discord.Embed(description="d").add_field(name="n", value=""))
    assert refused.value.text == "Invalid Form Body\nIn embeds.0.fields.0.value: This field is required"

    with pytest.raises(discord.HTTPException) as refused:
        await h.member("student").send(text(2001))
    assert_invalid_form_body(refused.value, "content")
    assert discord_side.dms_to(h.member("student").id) == []
    await h.member("student").send(text(2000))
    assert len(discord_side.dms_to(h.member("student").id)) == 1


# ---- interaction responses ---------------------------------------------------------------------


async def run_in_command(h, action: Callable[[discord.Interaction], Awaitable[None]]) -> BaseException | None:
    """Run `action` inside a real slash-command interaction and return what Discord refused."""
    caught: list[BaseException] = []

    @app_commands.command(name="probe", description="Runs one test action")
    async def probe(interaction: discord.Interaction) -> None:
        try:
            await action(interaction)
        except discord.HTTPException as error:
            caught.append(error)

    h.bot.tree.add_command(probe, override=True)
    await h.command("probe", user="member")
    return caught[0] if caught else None


async def test_message_responses_follow_ups_and_edits_are_checked(h, discord_side):
    async def reply_too_long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(text(2001))

    assert_invalid_form_body(await run_in_command(h, reply_too_long), "data.content")

    async def follow_up_too_long(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        await interaction.followup.send(embed=discord.Embed(title=text(257)))

    assert_invalid_form_body(await run_in_command(h, follow_up_too_long), "embeds.0.title")

    async def edit_too_long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok")
        await interaction.edit_original_response(content=text(2001))

    assert_invalid_form_body(await run_in_command(h, edit_too_long), "content")

    async def all_at_the_limit(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(text(2000))
        await interaction.edit_original_response(content=text(1999))
        await interaction.followup.send(text(2000))

    assert await run_in_command(h, all_at_the_limit) is None
    assert [s.kind for s in discord_side.sent[-3:]] == ["response", "edit_response", "followup"]


class UpdateView(discord.ui.View):
    def __init__(self, new_content: str, caught: list[BaseException]) -> None:
        super().__init__(timeout=None)
        self.new_content = new_content
        self.caught = caught

    @discord.ui.button(label="Update", custom_id="rollcall:test:update")
    async def update(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        try:
            await interaction.response.edit_message(content=self.new_content)
        except discord.HTTPException as error:
            self.caught.append(error)


async def test_a_component_update_response_is_checked(h, discord_side):
    caught: list[BaseException] = []
    await h.channel("general").send("click", view=UpdateView(text(2001), caught))
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    await h.click(message, "rollcall:test:update", user="member")
    assert_invalid_form_body(caught[0], "data.content")
    assert discord_side.stored_message(message.message_id)["content"] == "click"


def autocomplete_choices(h, choices: list[app_commands.Choice]) -> None:
    async def suggest(interaction: discord.Interaction, current: str) -> list[app_commands.Choice]:
        return choices

    @app_commands.command(name="pick", description="Autocompletes from a fixed list")
    @app_commands.autocomplete(word=suggest)
    async def pick(interaction: discord.Interaction, word: str) -> None:
        await interaction.response.send_message(word)

    h.bot.tree.add_command(pick, override=True)


@pytest.mark.parametrize(
    ("choices", "path"),
    [
        ([app_commands.Choice(name=str(i), value=str(i)) for i in range(26)], "data.choices"),
        ([app_commands.Choice(name=text(101), value="v")], "data.choices.0.name"),
        ([app_commands.Choice(name="", value="v")], "data.choices.0.name"),
        ([app_commands.Choice(name="n", value=text(101))], "data.choices.0.value"),
    ],
    ids=["26 choices", "name 101", "empty name", "value 101"],
)
async def test_over_limit_autocomplete_choices_are_refused(h, discord_side, error_log, choices, path):
    autocomplete_choices(h, choices)
    # discord.py can only log a failed autocomplete, so the log is where the refusal shows.
    with error_log.expect(1) as logged:
        await h.dispatch(h.command_payload("pick", user=h.member("member"), focused="word", options={"word": ""}))
    assert_invalid_form_body(logged[0].exc_info[1], path)
    assert discord_side.of_kind("response") == []


async def test_autocomplete_at_the_limits_is_accepted(h):
    choices = [app_commands.Choice(name=f"{i:02d}" + text(98), value=f"{i:02d}" + text(98)) for i in range(25)]
    autocomplete_choices(h, choices)
    assert len(await h.autocomplete("pick", "word", user="member", word="")) == 25


class ProbeModal(discord.ui.Modal):
    def __init__(self, *, title: str = "Probe", rows: int = 1, **input_options: Any) -> None:
        super().__init__(title=title, custom_id=input_options.pop("modal_custom_id", "rollcall:test:modal"))
        self.rows = rows
        self.add_item(discord.ui.TextInput(**{"label": "Words", "custom_id": "rollcall:test:words", **input_options}))

    def to_dict(self) -> dict[str, Any]:
        payload = super().to_dict()
        # discord.py refuses a sixth input itself, so the extra rows are added to the payload.
        payload["components"] = payload["components"] * self.rows
        return payload


@pytest.mark.parametrize(
    ("modal_options", "path"),
    [
        ({"title": text(46)}, "data.title"),
        ({"modal_custom_id": text(101)}, "data.custom_id"),
        ({"rows": 6}, "data.components"),
        ({"label": text(46)}, "data.components.0.components.0.label"),
        ({"custom_id": text(101)}, "data.components.0.components.0.custom_id"),
        ({"placeholder": text(101)}, "data.components.0.components.0.placeholder"),
        ({"default": text(4001)}, "data.components.0.components.0.value"),
        ({"max_length": 4001}, "data.components.0.components.0.max_length"),
    ],
    ids=["title", "modal custom_id", "6 inputs", "label", "input custom_id", "placeholder", "value", "max_length"],
)
async def test_over_limit_modals_are_refused(h, discord_side, modal_options, path):
    async def open_modal(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(ProbeModal(**modal_options))

    assert_invalid_form_body(await run_in_command(h, open_modal), path)
    assert discord_side.of_kind("response") == []


async def test_a_modal_at_the_limits_is_accepted(h):
    async def open_modal(interaction: discord.Interaction) -> None:
        modal = ProbeModal(
            title=text(45),
            rows=5,
            modal_custom_id=text(100),
            label=text(45),
            custom_id=text(100),
            placeholder=text(100),
            default=text(4000),
            max_length=4000,
        )
        await interaction.response.send_modal(modal)

    assert await run_in_command(h, open_modal) is None


async def test_an_empty_deferral_passes(h, discord_side):
    async def defer(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)

    assert await run_in_command(h, defer) is None
    assert discord_side.of_kind("response")[-1].response_type == 5


# ---- command sync -------------------------------------------------------------------------------


def command(**overrides: Any) -> dict[str, Any]:
    return {"type": 1, "name": "probe", "description": "A probe", "options": [], **overrides}


def string_option(**overrides: Any) -> dict[str, Any]:
    return {"type": 3, "name": "word", "description": "A word", **overrides}


OVER_LIMIT_COMMANDS = [
    (command(name=text(33)), "0.name"),
    (command(name=""), "0.name"),
    (command(name="Probe"), "0.name"),
    (command(name="two words"), "0.name"),
    (command(description=""), "0.description"),
    (command(description=text(101)), "0.description"),
    (command(options=[string_option(name=f"o{i}") for i in range(26)]), "0.options"),
    (command(options=[string_option(name=text(33))]), "0.options.0.name"),
    (command(options=[string_option(description=text(101))]), "0.options.0.description"),
    (
        command(options=[string_option(choices=[{"name": str(i), "value": str(i)} for i in range(26)])]),
        "0.options.0.choices",
    ),
    (command(options=[string_option(choices=[{"name": text(101), "value": "v"}])]), "0.options.0.choices.0.name"),
    (command(options=[string_option(choices=[{"name": "n", "value": text(101)}])]), "0.options.0.choices.0.value"),
    (
        command(options=[{"type": 1, "name": "sub", "description": "S", "options": [string_option(name="Bad")]}]),
        "0.options.0.options.0.name",
    ),
]


async def test_each_over_limit_command_sync_is_refused_with_the_field_path(h, discord_side):
    synced_at_start = len(discord_side.of_kind("sync"))
    for payload, path in OVER_LIMIT_COMMANDS:
        assert_invalid_form_body(await refusal(h.bot.http.bulk_upsert_global_commands(APP_ID, [payload])), path)
    assert len(discord_side.of_kind("sync")) == synced_at_start


async def test_a_command_sync_at_the_limits_is_accepted(h, discord_side):
    synced_at_start = len(discord_side.of_kind("sync"))
    options = [
        string_option(
            name=f"{i:02d}" + text(30),
            description=text(100),
            choices=[{"name": f"{c:02d}" + text(98), "value": f"{c:02d}" + text(98)} for c in range(25)],
        )
        for i in range(25)
    ]
    await h.bot.http.bulk_upsert_global_commands(
        APP_ID, [command(name=text(32), description=text(100), options=options)]
    )
    assert len(discord_side.of_kind("sync")) == synced_at_start + 1


async def test_the_bots_own_command_tree_syncs(h, discord_side):
    await h.bot.tree.sync()
    synced = discord_side.of_kind("sync")[-1].payload["commands"]
    assert {command["name"] for command in synced} >= {"attendance", "config", "here", "help"}
