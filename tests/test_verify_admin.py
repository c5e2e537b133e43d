"""The admins' /verify commands, who may run them, and the missing-permission notice."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import discord
import pytest

from tests.harness import DEFAULT_ROLES, UploadedFile, World
from tests.verify_support import count, imported_tokens, switch_on, tokens_from, verify_by_command

ADMIN_COMMANDS = {
    "verify import": lambda h: {"file": UploadedFile("roster.csv", b"email,name\nx@example.org,X\n")},
    "verify status": lambda h: {},
    "verify force": lambda h: {"member": h.member("student")},
    "verify timeout": lambda h: {"minutes": 30},
    "verify list": lambda h: {},
    "verify refresh": lambda h: {"email": "ada@example.org"},
    "verify remove": lambda h: {"email": "ada@example.org"},
    "verify export": lambda h: {},
    "verify enforce_existing": lambda h: {},
}


@pytest.mark.parametrize("user", ["organizer", "student"])
async def test_every_admin_command_refuses_non_admins_and_changes_nothing(h, discord_side, user):
    await switch_on(h)
    await imported_tokens(h)
    before = (await count(h, "roster_entry"), await count(h, "verify_deadline"), await count(h, "verified_member"))
    for name, options in ADMIN_COMMANDS.items():
        result = await h.command(name, user=user, channel="admin", options=options(h))
        assert "Only server admins" in result.text, (name, result.text)
        assert result.ephemeral
    after = (await count(h, "roster_entry"), await count(h, "verify_deadline"), await count(h, "verified_member"))
    assert after == before
    assert (await h.bot.guild_configs.get(h.guild.id)).verification_timeout_minutes == 5
    assert not discord_side.of_kind("role_add")


async def test_status_lists_pending_members_with_relative_deadlines_in_pages(h, clock):
    await switch_on(h)
    joined = [await h.member_join(f"new{i:02d}") for i in range(20)]
    status = await h.command("verify status", user="admin", channel="admin")
    text = status.text
    assert f"<@{joined[0].id}>" in text and f"<t:{int(clock.now().timestamp()) + 300}:R>" in text
    assert "Page 1 of 2 · 20 waiting" in text
    page2 = await h.click(status.response, "rollcall:verify:status:1", user="admin")
    assert f"<@{joined[-1].id}>" in page2.response.text and "Page 2 of 2" in page2.response.text


async def test_force_verifies_gives_the_role_and_drops_the_deadline(h, clock, discord_side):
    await switch_on(h)
    member = await h.member_join("vip")
    result = await h.command("verify force", user="admin", channel="admin", member=member)
    assert "is verified" in result.text
    assert [s.user_id for s in discord_side.of_kind("role_add")] == [member.id]
    assert await count(h, "verify_deadline") == 0
    clock.advance(minutes=10)
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")
    audit = await h.bot.audit.list(h.guild.id, action_prefix="verify.")
    assert [entry.action for entry in audit] == ["verify.force"]


async def test_timeout_changes_the_deadline_of_new_members(h, clock, discord_side):
    await switch_on(h)
    result = await h.command("verify timeout", user="admin", channel="admin", minutes=60)
    assert "60 minutes" in result.text
    member = await h.member_join("patient")
    clock.advance(minutes=59)
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")
    clock.advance(minutes=1)
    await h.bot.run_due_jobs()
    await h.idle()
    assert [kick.user_id for kick in discord_side.of_kind("kick")] == [member.id]


async def test_list_filters_by_status(h, clock):
    await switch_on(h)
    tokens = await imported_tokens(h)
    member = await h.member_join("ada")
    await verify_by_command(h, member, "ada@example.org", tokens["ada@example.org"])
    verified = await h.command("verify list", user="admin", channel="admin", status="verified")
    assert "ada@example.org" in verified.text and "grace@example.org" not in verified.text
    pending = await h.command("verify list", user="admin", channel="admin", status="pending")
    assert "grace@example.org" in pending.text and "ada@example.org" not in pending.text
    assert pending.ephemeral
    clock.advance(days=8)
    expired = await h.command("verify list", user="admin", channel="admin", status="expired")
    assert "(2)" in expired.text


async def test_refresh_gives_a_new_token_and_kills_the_old_one(h):
    await switch_on(h)
    old = (await imported_tokens(h))["grace@example.org"]
    refreshed = await h.command("verify refresh", user="admin", channel="admin", email=" Grace@Example.org ")
    assert refreshed.ephemeral and "old one no longer works" in refreshed.text
    new = tokens_from(refreshed.reply)["grace@example.org"]
    assert new != old
    member = await h.member_join("grace")
    assert "don't match" in (await verify_by_command(h, member, "grace@example.org", old)).text
    assert "You're verified" in (await verify_by_command(h, member, "grace@example.org", new)).text
    again = await h.command("verify refresh", user="admin", channel="admin", email="grace@example.org")
    assert "already verified" in again.text


async def test_remove_deletes_the_entry_and_its_token(h):
    await switch_on(h)
    tokens = await imported_tokens(h)
    removed = await h.command("verify remove", user="admin", channel="admin", email="alan@example.org")
    assert "Removed" in removed.text
    missing = await h.command("verify remove", user="admin", channel="admin", email="alan@example.org")
    assert "is not in this server's roster" in missing.text
    member = await h.member_join("alan")
    assert "don't match" in (await verify_by_command(h, member, "alan@example.org", tokens["alan@example.org"])).text
    assert await count(h, "roster_entry") == 2


async def test_export_is_a_formula_safe_status_csv(h):
    await switch_on(h)
    await imported_tokens(h, b"email,name\nada@example.org,=cmd|' /C calc'!A0\nbob@example.org,+Bob\n")
    export = await h.command("verify export", user="admin", channel="admin")
    assert export.ephemeral
    filename, data = export.reply.files[0]
    assert filename.startswith("roster-") and filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["email", "name", "discord_username", "status"]
    names = {row[1] for row in rows[1:]}
    assert names == {"'=cmd|' /C calc'!A0", "'+Bob"}
    assert all(row[3] == "pending" for row in rows[1:])


WEAK_BOT_ROLE = replace(
    next(role for role in DEFAULT_ROLES if role.name == "Rollcall"),
    permissions=discord.Permissions(view_channel=True, send_messages=True, embed_links=True, attach_files=True),
)


WEAK_WORLD_ROLES = tuple(WEAK_BOT_ROLE if role.name == "Rollcall" else role for role in DEFAULT_ROLES)


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return getattr(request, "param", None) or World()


@pytest.mark.parametrize("world", [World(roles=WEAK_WORLD_ROLES)], indirect=True)
async def test_missing_permissions_are_reported_to_the_admin_channel_once(h, discord_side, clock):
    await switch_on(h)
    admin_channel = h.channel("admin").id
    for name in ("one", "two", "three"):
        await h.member_join(name)
    clock.advance(minutes=5)
    await h.bot.run_due_jobs()
    await h.idle()
    notices = [
        sent for sent in discord_side.channel_messages(admin_channel) if "Verification can't work" in sent.content
    ]
    assert len(notices) == 1
    assert "Manage Roles" in notices[0].content and "Kick Members" in notices[0].content
    assert "Server Settings" in notices[0].content
    assert not discord_side.of_kind("kick")
    # The role can't be given either: the member who verifies is told, the admins are not told again.
    tokens = await imported_tokens(h)
    member = await h.member_join("four")
    result = await verify_by_command(h, member, "ada@example.org", tokens["ada@example.org"])
    assert "couldn't give you the **Member** role" in result.text
    notices = [
        sent for sent in discord_side.channel_messages(admin_channel) if "Verification can't work" in sent.content
    ]
    assert len(notices) == 1
