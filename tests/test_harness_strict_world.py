"""The fake Discord's server side is as strict as Discord (discord-api-docs: permissions.mdx,
message.mdx, guild.mdx, opcodes-and-status-codes.mdx, gateway.mdx): the world survives a
restart, start-up runs in Discord's order, the role hierarchy and channel permissions refuse
what Discord refuses, a DM needs a shared server, and gateway events follow the intents."""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest

from bot.core import Rollcall
from bot.delivery import Outcome, Target
from tests.harness import (
    BOT_PERMISSIONS,
    DEFAULT_ROLES,
    IntentNotRequested,
    RoleSpec,
    World,
    boot_bot,
    gateway,
    shutdown_bot,
)
from tests.harness.world import SERVER_JOINED_AT


def roles_of(member: discord.Member) -> set[str]:
    return {role.name for role in member.roles if not role.is_default()}


def deny_bot(h, channel: discord.TextChannel, **denied: bool) -> None:
    h.set_channel_overwrite(channel, h.role("Rollcall"), discord.PermissionOverwrite(**denied))


async def assert_forbidden(code: int, call) -> None:
    with pytest.raises(discord.Forbidden) as refused:
        await call
    assert refused.value.status == 403
    assert refused.value.code == code


# ---- the world is the truth across a restart -------------------------------------------


async def test_roles_granted_and_removed_by_the_bot_are_still_so_after_a_restart(h, restart, discord_side):
    student, member = h.member("student"), h.member("member")
    await student.add_roles(h.role("Member"))
    await member.remove_roles(h.role("Member"))
    assert roles_of(h.member("student")) == {"Student", "Member"}
    assert roles_of(h.member("member")) == set()

    h2 = await restart()
    assert roles_of(h2.member("student")) == {"Student", "Member"}
    assert roles_of(h2.member("member")) == set()
    assert [sent.kind for sent in discord_side.sent if sent.kind.startswith("role")] == ["role_add", "role_remove"]


async def test_members_who_joined_or_were_added_are_there_after_a_restart(h, restart):
    await h.member_join("newcomer")
    h.add_member("seeded", roles=("Student",))

    h2 = await restart()
    assert h2.member("newcomer").joined_at > SERVER_JOINED_AT
    assert roles_of(h2.member("seeded")) == {"Student"}


async def test_members_kicked_or_gone_are_gone_after_a_restart(h, restart, discord_side):
    await h.member("student2").kick(reason="left the course")
    await h.member_leave(h.member("student3"))
    assert h.guild.get_member(discord_side.world.user_named("student").id) is not None
    with pytest.raises(KeyError):
        h.member("student2")

    h2 = await restart()
    for name in ("student2", "student3"):
        with pytest.raises(KeyError):
            h2.member(name)
    assert h2.member("student") is not None


async def test_members_users_and_the_guild_look_as_discord_sends_them_today(h, world):
    owner = h.member("owner")
    assert h.guild.owner_id == owner.id == world.owner_id
    assert h.guild.owner == owner
    student = h.member("student")
    assert student.joined_at == SERVER_JOINED_AT
    assert student.discriminator == "0"
    assert h.bot.user is not None and h.bot.user.discriminator == "0"


async def test_a_global_name_is_what_the_server_shows_without_a_nickname(h, restart, discord_side):
    discord_side.world.join(gateway.UserSpec("ada", h.discord.next_id(), ("Student",), global_name="Ada Lovelace"))
    h2 = await restart()
    assert h2.member("ada").global_name == "Ada Lovelace"
    assert h2.member("ada").display_name == "Ada Lovelace"


# ---- start-up in Discord's order ---------------------------------------------------------


async def test_setup_hook_runs_on_an_empty_cache_then_ready_then_the_guild_then_on_ready(
    settings, discord_side, world, clock, monkeypatch
):
    order: list[tuple[str, int]] = []
    setup_hook = Rollcall.setup_hook

    def available(bot: Rollcall) -> int:
        """Guilds the bot can use; READY lists them as unavailable until their GUILD_CREATE."""
        return sum(not guild.unavailable for guild in bot.guilds)

    async def observed_setup_hook(bot: Rollcall) -> None:
        order.append(("setup_hook", len(bot.guilds)))

        async def on_connect() -> None:
            order.append(("connect", available(bot)))

        async def on_guild_available(guild: discord.Guild) -> None:
            order.append(("guild_available", len(guild.members)))

        async def on_ready() -> None:
            order.append(("ready", available(bot)))

        for listener in (on_connect, on_guild_available, on_ready):
            bot.add_listener(listener)
        await setup_hook(bot)

    monkeypatch.setattr(Rollcall, "setup_hook", observed_setup_hook)
    bot, h = await boot_bot(settings, discord_side, world, clock)
    try:
        await h.idle()
        assert order == [
            ("setup_hook", 0),
            ("connect", 0),
            ("guild_available", len(world.users) + 1),
            ("ready", 1),
        ]
        assert h.bot.is_ready()
    finally:
        await shutdown_bot(bot)


async def test_guild_create_carries_the_members_only_with_the_members_intent(h, world):
    bot_user = h.bot.user
    with_members = gateway.guild_create_payload(world, bot_user, discord.Intents(guilds=True, members=True))
    without = gateway.guild_create_payload(world, bot_user, discord.Intents(guilds=True))
    assert len(with_members["members"]) == len(world.users) + 1
    assert [member["user"]["id"] for member in without["members"]] == [str(bot_user.id)]
    assert without["member_count"] == len(world.users) + 1


# ---- role and kick hierarchy ------------------------------------------------------------


async def test_a_role_at_or_above_the_bots_top_role_cannot_be_given_or_taken(h, discord_side, world):
    student = h.member("student")
    for role_name in ("Moderators", "Rollcall"):
        await assert_forbidden(50013, student.add_roles(h.role(role_name)))
    await assert_forbidden(50013, h.member("admin").remove_roles(h.role("Rollcall")))
    assert roles_of(h.member("student")) == {"Student"}
    assert world.user_named("student").roles == ("Student",)
    assert discord_side.of_kind("role_add") == []


async def test_a_member_at_or_above_the_bot_or_the_owner_cannot_be_kicked(h, discord_side, world):
    await h.member("student").add_roles(h.role("Organizer"))
    h.add_member("moderator", roles=("Moderators",))
    h.add_member("peer", roles=("Rollcall",))
    for name in ("moderator", "peer", "owner"):
        await assert_forbidden(50013, h.member(name).kick())
        assert world.user_named(name) is not None
        assert h.member(name) is not None
    assert discord_side.of_kind("kick") == []
    admin = h.member("admin")
    await admin.kick()
    assert [sent.user_id for sent in discord_side.of_kind("kick")] == [admin.id]
    with pytest.raises(KeyError):
        world.user_named("admin")


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    """The default world, or (parametrized indirectly) one whose bot role lacks one permission."""
    lacking = getattr(request, "param", None)
    if lacking is None:
        return World()
    permissions = discord.Permissions(BOT_PERMISSIONS.value)
    permissions.update(**{lacking: False})
    roles = tuple(
        RoleSpec(role.name, role.id, role.position, permissions) if role.name == "Rollcall" else role
        for role in DEFAULT_ROLES
    )
    return World(roles=roles)


@pytest.mark.parametrize("world", ["manage_roles"], indirect=True)
async def test_without_manage_roles_no_role_is_given(h, world, discord_side):
    await assert_forbidden(50013, h.member("student").add_roles(h.role("Member")))
    assert world.user_named("student").roles == ("Student",)
    assert discord_side.of_kind("role_add") == []


@pytest.mark.parametrize("world", ["kick_members"], indirect=True)
async def test_without_kick_members_nobody_is_kicked(h, world, discord_side):
    await assert_forbidden(50013, h.member("student").kick())
    assert world.member(h.member("student").id) is not None
    assert discord_side.of_kind("kick") == []


# ---- DMs --------------------------------------------------------------------------------


async def test_a_dm_to_a_user_who_shares_no_server_is_refused_with_50278(h, discord_side):
    student = h.member("student3")
    await h.member_leave(student)
    channel = await h.bot.create_dm(discord.Object(student.id))
    await assert_forbidden(50278, channel.send("hello"))
    assert discord_side.dms_to(student.id) == []


async def test_a_dm_to_a_member_with_closed_dms_is_refused_with_50007(h, discord_side):
    student = h.member("student")
    discord_side.closed_dms.add(student.id)
    await assert_forbidden(50007, student.send("hello"))
    await h.member("student2").send("hello")
    assert len(discord_side.dms_to(h.member("student2").id)) == 1
    assert discord_side.dms_to(student.id) == []


async def test_the_bot_reports_a_dm_to_someone_who_left_as_undeliverable_without_crashing(h, discord_side):
    gone = h.member("student3")
    await h.member_leave(gone)
    result = await h.bot.delivery.send(Target.dm(gone.id), "your report")
    assert result.outcome is Outcome.DMS_CLOSED
    assert result.code == 50278
    assert result.explain() == f"<@{gone.id}> does not accept DMs from me."
    assert discord_side.dms_to(gone.id) == []


# ---- channel messages -------------------------------------------------------------------


async def test_an_embed_without_embed_links_and_a_file_without_attach_files_are_refused(h, discord_side):
    general = h.channel("general")
    deny_bot(h, general, embed_links=False, attach_files=False)
    await assert_forbidden(50013, general.send(embed=discord.Embed(title="code")))
    await assert_forbidden(50013, general.send(file=discord.File(__file__, filename="a.txt")))
    await general.send("plain text still goes")
    assert [sent.content for sent in discord_side.channel_messages(general.id)] == ["plain text still goes"]


async def test_an_edit_adding_an_embed_without_embed_links_is_refused(h, discord_side):
    general = h.channel("general")
    message = await general.send("text")
    deny_bot(h, general, embed_links=False)
    await assert_forbidden(50013, message.edit(embed=discord.Embed(title="code")))
    assert discord_side.stored_message(message.id)["embeds"] == []


async def test_a_channel_the_bot_cannot_see_is_missing_access_and_no_send_is_missing_permissions(h, discord_side):
    general, log_channel = h.channel("general"), h.channel("log")
    deny_bot(h, general, view_channel=False)
    deny_bot(h, log_channel, send_messages=False)
    await assert_forbidden(50001, general.send("hello"))
    await assert_forbidden(50013, log_channel.send("hello"))
    assert discord_side.channel_messages(general.id) == discord_side.channel_messages(log_channel.id) == []


async def test_opening_a_roll_call_without_embed_links_in_the_attendance_channel_says_so(h, discord_side):
    attendance = h.channel("attendance")
    result = await h.command(
        "config set", user="admin", channel="admin", admin_channel=h.channel("admin"), attendance_channel=attendance
    )
    assert "Saved" in result.text
    deny_bot(h, attendance, embed_links=False)
    opened = await h.command("attendance open", user="admin", channel="admin")
    assert "Embed Links" in opened.text, opened.text
    assert await h.bot.attendance.get_latest(h.guild.id) is None
    assert discord_side.channel_messages(attendance.id) == []


# ---- gateway events follow the intents ----------------------------------------------------


def test_an_event_the_bot_did_not_ask_for_fails_the_test_loudly(h):
    assert not h.bot.intents.presences
    with pytest.raises(IntentNotRequested, match="PRESENCE_UPDATE only with the presences intent"):
        gateway.require_intent(h.bot.intents, "PRESENCE_UPDATE")
    with pytest.raises(IntentNotRequested, match="GUILD_MEMBER_ADD only with the members intent"):
        gateway.require_intent(discord.Intents(guilds=True), "GUILD_MEMBER_ADD")
    gateway.require_intent(h.bot.intents, "GUILD_MEMBER_ADD")


def test_member_updates_are_not_delivered_without_the_members_intent():
    assert not gateway.receives(discord.Intents(guilds=True), "GUILD_MEMBER_UPDATE")
    assert not gateway.receives(discord.Intents(guilds=True), "GUILD_MEMBER_REMOVE")
    assert gateway.receives(discord.Intents(guilds=True, members=True), "GUILD_MEMBER_UPDATE")


async def test_a_join_reaches_on_member_join_with_the_time_it_happened(h):
    joined: list[discord.Member] = []

    async def on_member_join(member: discord.Member) -> None:
        joined.append(member)

    h.bot.add_listener(on_member_join)
    before = datetime.now(UTC)
    member = await h.member_join("newcomer", roles=("Student",))
    assert joined == [member]
    assert member.joined_at is not None and member.joined_at >= before.replace(microsecond=0)
    assert roles_of(member) == {"Student"}
