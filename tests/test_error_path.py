"""The one error path: every failure a member can meet gets its own ephemeral answer, a stale
command after a deploy is a warning rather than a bug, and only bugs get an error id."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.errors import DmsClosed, MissingBotPermission, NotAllowed
from bot.tree import GuardedItem, RollcallLayoutView, RollcallView
from tests.harness import APP_ID, not_found

STALE = "This command was just updated; try again in a minute."
ERROR_ID = re.compile(r"Error id: `([0-9a-f]{8})`")
CALLBACK = "/interactions/{interaction_id}/{token}/callback"


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING)
    return caplog


def warned(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def add(h: Any, command: app_commands.Command) -> None:
    h.bot.tree.add_command(command)


# ---- checks ---------------------------------------------------------------------------------


async def test_missing_member_permission_is_named_in_words(h):
    @app_commands.command(name="probe", description="Needs Manage Server and Manage Roles")
    @app_commands.checks.has_permissions(manage_guild=True, manage_roles=True)
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    add(h, probe)
    result = await h.command("probe", user="member")
    assert result.text == "You need the Manage Server and Manage Roles permissions to use this command."
    assert result.ephemeral


async def test_missing_bot_permission_is_named_in_words(h):
    @app_commands.command(name="probe", description="Needs the bot to send messages")
    @app_commands.checks.bot_has_permissions(send_messages=True)
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    add(h, probe)
    result = await h.command("probe", user="member", channel="announcements")
    assert result.text.startswith("I am missing a permission here: Send Messages.")
    assert result.ephemeral
    assert (await h.command("probe", user="member", channel="general")).text == "ran"


async def test_missing_role_names_the_role(h):
    role_id = h.role("Organizer").id

    @app_commands.command(name="by_name", description="Needs the Admin role")
    @app_commands.checks.has_role("Admin")
    async def by_name(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    @app_commands.command(name="by_id", description="Needs the Organizer role")
    @app_commands.checks.has_role(role_id)
    async def by_id(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    @app_commands.command(name="any_of", description="Needs Admin or Organizer")
    @app_commands.checks.has_any_role("Admin", role_id)
    async def any_of(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    for command in (by_name, by_id, any_of):
        add(h, command)
    named = await h.command("by_name", user="member")
    assert named.text == "You need the **Admin** role to use this command." and named.ephemeral
    by_role_id = await h.command("by_id", user="member")
    assert by_role_id.text == f"You need the <@&{role_id}> role to use this command." and by_role_id.ephemeral
    either = await h.command("any_of", user="member")
    assert either.text == f"You need one of these roles to use this command: **Admin**, <@&{role_id}>."
    assert either.ephemeral
    assert (await h.command("any_of", user="organizer")).text == "ran"


async def test_a_server_only_check_in_a_dm_says_it_works_only_in_a_server(h):
    @app_commands.command(name="probe", description="Needs a role, so a server")
    @app_commands.checks.has_role("Admin")
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    add(h, probe)
    result = await h.dm_command("probe", user="admin")
    assert result.text == "This command works only in a server."
    assert result.ephemeral


async def test_cooldown_says_when_to_try_again(h):
    @app_commands.command(name="probe", description="Once a minute")
    @app_commands.checks.cooldown(1, 60.0)
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    add(h, probe)
    assert (await h.command("probe", user="member")).text == "ran"
    again = await h.command("probe", user="member")
    assert again.text == "This command is cooling down: try again in 60 s."
    assert again.ephemeral


async def test_a_failed_plain_check_is_refused_without_an_error_id(h):
    @app_commands.command(name="probe", description="Never allowed")
    @app_commands.check(lambda interaction: False)
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ran")

    add(h, probe)
    result = await h.command("probe", user="admin")
    assert result.text == "You can't use this command here."
    assert result.ephemeral


# ---- transformers ---------------------------------------------------------------------------


class Digits(app_commands.Transformer):
    """A transformer with a bug: anything but digits makes it crash instead of refusing."""

    async def transform(self, interaction: discord.Interaction, value: str) -> int:
        return int(value)


async def test_a_crashing_transformer_is_a_bug_with_an_error_id_not_the_members_fault(h, error_log):
    @app_commands.command(name="probe", description="Takes digits")
    @app_commands.describe(number="Digits")
    async def probe(interaction: discord.Interaction, number: app_commands.Transform[int, Digits]) -> None:
        await interaction.response.send_message(f"got {number}")

    add(h, probe)
    with error_log.expect(1) as records:
        result = await h.command("probe", user="member", number="twelve")
    match = ERROR_ID.search(result.text)
    assert match, result.text
    assert result.ephemeral
    assert match.group(1) in records[0].getMessage()
    assert (await h.command("probe", user="member", number="12")).text == "got 12"


# ---- bugs -----------------------------------------------------------------------------------


async def test_an_unexpected_error_after_a_defer_gets_an_error_id_in_the_followup_and_one_error_log(
    h, error_log, warnings
):
    @app_commands.command(name="probe", description="Defers, then fails")
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise KeyError("lost")

    add(h, probe)
    with error_log.expect(1) as records:
        result = await h.command("probe", user="member")
    assert result.response.response_type == 5
    followups = result.of_kind("followup")
    assert len(followups) == 1
    match = ERROR_ID.search(followups[0].text)
    assert match, followups[0].text
    assert "lost" not in followups[0].text
    [record] = records
    assert record.levelno == logging.ERROR
    assert match.group(1) in record.getMessage() and "/probe" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], KeyError)
    assert not [r for r in warnings.records if r.levelno == logging.WARNING and r.name.startswith("bot")]


# ---- refusals from Discord --------------------------------------------------------------------


async def test_a_refused_post_without_a_known_permission_names_the_likely_ones(h, discord_side):
    announcements = h.channel("announcements")

    @app_commands.command(name="probe", description="Posts where the bot may not")
    async def probe(interaction: discord.Interaction) -> None:
        await announcements.send("news")
        await interaction.response.send_message("posted")

    add(h, probe)
    result = await h.command("probe", user="admin")
    assert result.text == (
        "I lack a permission in this channel for that: most likely View Channel, Send Messages, Embed Links or "
        "Attach Files. Ask an admin to check my role's permissions here."
    )
    assert result.ephemeral
    assert "Error id" not in result.text
    assert discord_side.channel_messages(announcements.id) == []


async def test_a_refused_role_change_names_the_permission_the_caller_attached(h, discord_side):
    moderators = h.role("Moderators")

    @app_commands.command(name="probe", description="Gives a role above the bot's")
    async def probe(interaction: discord.Interaction) -> None:
        try:
            await h.member("student").add_roles(moderators)
        except discord.Forbidden as error:
            raise MissingBotPermission("manage_roles") from error
        await interaction.response.send_message("given")

    add(h, probe)
    result = await h.command("probe", user="admin")
    assert result.text.startswith("I am missing a permission here: Manage Roles.")
    assert result.ephemeral
    assert moderators not in h.member("student").roles
    assert discord_side.of_kind("role_add") == []


async def test_closed_dms_are_told_as_closed_dms(h, discord_side):
    student = h.member("student")
    discord_side.closed_dms.add(student.id)

    @app_commands.command(name="dm_me", description="DMs whoever runs it")
    async def dm_me(interaction: discord.Interaction) -> None:
        await interaction.user.send("psst")
        await interaction.response.send_message("sent")

    @app_commands.command(name="dm_them", description="DMs the student")
    async def dm_them(interaction: discord.Interaction) -> None:
        try:
            await student.send("psst")
        except discord.Forbidden as error:
            raise DmsClosed(student) from error
        await interaction.response.send_message("sent")

    add(h, dm_me)
    add(h, dm_them)
    mine = await h.command("dm_me", user="student")
    assert mine.text.startswith("I can't DM you: your DMs are closed for this server.")
    assert mine.ephemeral
    theirs = await h.command("dm_them", user="admin")
    assert theirs.text == f"I can't DM {student.mention}: their DMs are closed for this server."
    assert theirs.ephemeral
    assert discord_side.dms_to(student.id) == []


# ---- a stale command after a deploy -----------------------------------------------------------


def assert_stale_answer(result: Any, caplog: pytest.LogCaptureFixture, label: str) -> None:
    assert result.text == STALE
    assert result.ephemeral
    assert "Error id" not in result.text
    records = warned(caplog, "Stale command")
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert label in records[0].getMessage()
    assert records[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_command_discord_still_offers_but_this_build_removed_is_a_warning(h, warnings, error_log):
    payload = h.command_payload("help", user=h.member("member"))
    payload["data"]["name"] = "roll"
    result = await h.dispatch(payload)
    assert_stale_answer(result, warnings, "/roll")


async def test_a_removed_subcommand_is_a_warning(h, warnings, error_log):
    payload = h.command_payload("attendance status", user=h.member("admin"), channel=h.channel("admin"))
    payload["data"]["options"][0]["name"] = "overview"
    result = await h.dispatch(payload)
    assert_stale_answer(result, warnings, "/attendance overview")


async def test_a_command_whose_required_option_is_missing_is_a_warning_and_changes_nothing(
    h, warnings, error_log, discord_side
):
    payload = h.command_payload("here", user=h.member("student"), code="ABCD")
    payload["data"]["options"] = []
    result = await h.dispatch(payload)
    assert_stale_answer(result, warnings, "/here")
    assert await h.bot.attendance.count_sessions(h.guild.id) == 0
    assert [sent.kind for sent in result.sent] == ["response"]


async def test_a_group_that_became_a_command_group_is_a_warning(h, warnings, error_log):
    payload = h.command_payload("help", user=h.member("admin"))
    payload["data"]["name"] = "config"
    result = await h.dispatch(payload)
    assert_stale_answer(result, warnings, "/config")


async def test_a_removed_context_menu_is_a_warning(h, warnings, error_log):
    target = h.member("student")
    payload = h.command_payload("help", user=h.member("admin"))
    payload["data"] = {
        "id": str(h.discord.next_id()),
        "name": "Mark present",
        "type": 2,
        "target_id": str(target.id),
        "guild_id": str(h.guild.id),
        "resolved": {"users": {str(target.id): {"id": str(target.id), "username": target.name, "discriminator": "0"}}},
    }
    result = await h.dispatch(payload)
    assert_stale_answer(result, warnings, "menu 'Mark present'")


async def test_autocomplete_for_a_removed_command_offers_no_choices(h, warnings, error_log):
    payload = h.command_payload(
        "attendance mark", user=h.member("admin"), channel=h.channel("admin"), focused="session", session="1"
    )
    payload["data"]["options"][0]["name"] = "tick"
    result = await h.dispatch(payload)
    assert result.choices == []
    assert len(warned(warnings, "Stale command")) == 1
    assert not [r for r in warnings.records if r.levelno >= logging.ERROR]


# ---- an interaction that expired --------------------------------------------------------------


async def test_a_refusal_whose_reply_comes_too_late_is_a_warning_and_not_raised_again(
    h, discord_side, warnings, error_log
):
    @app_commands.command(name="probe", description="Refuses")
    async def probe(interaction: discord.Interaction) -> None:
        raise NotAllowed("Not you.")

    add(h, probe)
    discord_side.fail_next("POST", CALLBACK, not_found(10062, "Unknown interaction"))
    result = await h.command("probe", user="member")
    assert discord_side.pending_faults() == []
    assert result.of_kind("response") == []
    assert len(warned(warnings, "Could not deliver the error reply")) == 1
    assert not [r for r in warnings.records if r.levelno >= logging.ERROR]


async def test_a_command_that_answered_too_late_is_a_warning_without_a_second_reply(
    h, discord_side, warnings, error_log
):
    @app_commands.command(name="probe", description="Answers too late")
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("done")

    add(h, probe)
    discord_side.fail_next("POST", CALLBACK, not_found(10062, "Unknown interaction"))
    result = await h.command("probe", user="member")
    assert discord_side.pending_faults() == []
    assert result.sent == []
    records = warned(warnings, "Too late to answer /probe")
    assert len(records) == 1
    assert not [r for r in warnings.records if r.levelno >= logging.ERROR]


async def test_a_refusal_for_an_unknown_webhook_is_a_warning(h, discord_side, warnings, error_log):
    @app_commands.command(name="probe", description="Defers and is refused")
    async def probe(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        raise NotAllowed("Not you.")

    add(h, probe)
    discord_side.fail_next("POST", f"/webhooks/{APP_ID}/{{token}}", not_found(10015, "Unknown Webhook"))
    result = await h.command("probe", user="member")
    assert discord_side.pending_faults() == []
    assert result.of_kind("followup") == []
    assert len(warned(warnings, "Could not deliver the error reply")) == 1
    assert not [r for r in warnings.records if r.levelno >= logging.ERROR]


async def test_a_refused_edit_in_a_channel_the_bot_cannot_see_names_the_likely_permissions(h, discord_side):
    lecture = h.channel("lecture-b")
    posted = await lecture.send("before")

    @app_commands.command(name="probe", description="Edits a message in a hidden channel")
    async def probe(interaction: discord.Interaction) -> None:
        await posted.edit(content="after")
        await interaction.response.send_message("edited")

    add(h, probe)
    h.set_channel_overwrite(lecture, h.role("Rollcall"), discord.PermissionOverwrite(view_channel=False))
    result = await h.command("probe", user="admin")
    assert result.text.startswith("I lack a permission in this channel for that: most likely View Channel")
    assert result.ephemeral
    assert discord_side.stored_message(posted.id)["content"] == "before"


# ---- views, layouts and persistent buttons ------------------------------------------------------


class ProbeButton(GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:test:probe:(?P<id>\d+)"):
    def __init__(self, probe_id: int) -> None:
        super().__init__(discord.ui.Button(label="Probe", custom_id=f"rollcall:test:probe:{probe_id}"))
        self.probe_id = probe_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ProbeButton:
        return cls(int(match["id"]))

    async def run(self, interaction: discord.Interaction) -> None:
        if self.probe_id == 1:
            await interaction.user.send("psst")
        raise LookupError("probe bug")


class BrokenLayout(RollcallLayoutView):
    row: discord.ui.ActionRow[BrokenLayout] = discord.ui.ActionRow()

    @row.button(label="Break", custom_id="rollcall:test:layout")
    async def smash(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        raise LookupError("layout bug")


async def test_a_persistent_button_tells_closed_dms_and_gives_a_bug_an_error_id(h, discord_side, error_log):
    h.bot.add_dynamic_items(ProbeButton)
    view = RollcallView(timeout=None)
    view.add_item(ProbeButton(1))
    view.add_item(ProbeButton(2))
    await h.channel("general").send("probe", view=view)
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    discord_side.closed_dms.add(h.member("student").id)

    closed = await h.click(message, "rollcall:test:probe:1", user="student")
    assert closed.text.startswith("I can't DM you: your DMs are closed for this server.")
    assert closed.ephemeral
    with error_log.expect(1) as records:
        bug = await h.click(message, "rollcall:test:probe:2", user="student")
    match = ERROR_ID.search(bug.text)
    assert match and bug.ephemeral
    assert match.group(1) in records[0].getMessage() and "rollcall:test:probe:2" in records[0].getMessage()


async def test_a_layout_view_error_reaches_the_one_handler(h, discord_side, error_log):
    await h.channel("general").send(view=BrokenLayout())
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    with error_log.expect(1) as records:
        clicked = await h.click(message, "rollcall:test:layout", user="member")
    match = ERROR_ID.search(clicked.text)
    assert match and clicked.ephemeral
    assert match.group(1) in records[0].getMessage()
