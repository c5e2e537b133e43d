"""The harness itself: modals, selects and joins travel the real discord.py paths, and the
fake Discord refuses what real Discord would refuse. Future features rely on these."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.tree import RollcallModal, RollcallView
from tests.harness import UnknownEndpoint


class EchoModal(discord.ui.Modal, title="Echo"):
    words = discord.ui.TextInput(label="Words", custom_id="rollcall:test:words")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"echo: {self.words.value}", ephemeral=True)


class PickView(discord.ui.View):
    @discord.ui.select(custom_id="rollcall:test:pick", options=[discord.SelectOption(label=x) for x in "abc"])
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)


async def test_modal_round_trip(h):
    @app_commands.command(name="echo", description="Opens a modal")
    async def echo(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(EchoModal())

    h.bot.tree.add_command(echo)
    opened = await h.command("echo", user="member")
    modal = opened.modal
    assert modal["title"] == "Echo"
    submitted = await h.submit_modal(modal, {"rollcall:test:words": "hello 👋"}, user="member")
    assert submitted.text == "echo: hello 👋"


async def test_select_click_reaches_the_view(h, discord_side):
    await h.channel("general").send("pick one", view=PickView())
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    assert "rollcall:test:pick" in message.custom_ids
    result = await h.select(message, "rollcall:test:pick", ["b"], user="member")
    assert result.text == "picked ['b']"


async def test_clicking_a_button_that_is_not_on_the_message_fails_loudly(h, discord_side):
    await h.channel("general").send("nothing to click")
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    with pytest.raises(AssertionError, match="not on that message"):
        await h.click(message, "rollcall:test:missing", user="member")


async def test_member_join_dispatches_the_gateway_event(h):
    joined = []

    async def on_member_join(member: discord.Member) -> None:
        joined.append(member.name)

    h.bot.add_listener(on_member_join)
    member = await h.member_join("newcomer")
    assert joined == ["newcomer"]
    assert h.guild.get_member(member.id) is not None


async def test_closed_dms_raise_forbidden_like_discord(h, discord_side):
    discord_side.closed_dms.add(h.member("student").id)
    with pytest.raises(discord.Forbidden):
        await h.member("student").send("hi")
    await h.member("member").send("hi")
    assert discord_side.dms_to(h.member("member").id)[0].content == "hi"


async def test_role_changes_and_kicks_are_recorded_and_applied(h, discord_side):
    student = h.member("student")
    await student.add_roles(h.role("Member"))
    assert h.role("Member") in h.guild.get_member(student.id).roles
    with pytest.raises(discord.Forbidden):
        await student.add_roles(h.role("Moderators"))
    await h.guild.kick(student, reason="test")
    assert h.guild.get_member(student.id) is None
    assert [s.kind for s in discord_side.sent if s.kind in ("role_add", "kick")] == ["role_add", "kick"]


async def test_unknown_endpoints_fail(h, discord_side):
    with pytest.raises(UnknownEndpoint):
        await h.channel("general").create_invite()
    discord_side.unknown_calls.clear()


class BrokenModal(RollcallModal, title="Broken"):
    words = discord.ui.TextInput(label="Words", custom_id="rollcall:test:broken")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        raise RuntimeError("modal bug")


class BrokenView(RollcallView):
    @discord.ui.button(label="Break", custom_id="rollcall:test:break")
    async def smash(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        raise RuntimeError("button bug")


async def test_modal_and_view_errors_reach_the_one_error_path(h, discord_side, error_log):
    @app_commands.command(name="broken", description="Opens a broken modal")
    async def broken(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(BrokenModal())

    h.bot.tree.add_command(broken)
    opened = await h.command("broken", user="member")
    with error_log.expect(1):
        submitted = await h.submit_modal(opened.modal, {"rollcall:test:broken": "x"}, user="member")
    assert "Error id:" in submitted.text and submitted.ephemeral

    await h.channel("general").send("break it", view=BrokenView())
    message = discord_side.channel_messages(h.channel("general").id)[-1]
    with error_log.expect(1):
        clicked = await h.click(message, "rollcall:test:break", user="member")
    assert "Error id:" in clicked.text
