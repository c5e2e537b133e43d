"""A member joins, gets the Verify DM, verifies with the modal or is removed at the deadline."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import UserSpec, gateway, private
from tests.verify_support import (
    count,
    imported_tokens,
    prompt_dm,
    switch_on,
    verify_by_command,
    verify_by_dm,
)

EMAIL = "rollcall:verify:email"
TOKEN = "rollcall:verify:token"


async def test_a_joining_member_verifies_by_dm_and_gets_the_member_role(h, discord_side):
    await switch_on(h)
    tokens = await imported_tokens(h)
    newcomer = await h.member_join("newcomer")
    dm = prompt_dm(h, newcomer)
    assert "Verify" in dm.content and "<t:" in dm.content

    result = await verify_by_dm(h, newcomer, "  ADA@Example.org ", tokens["ada@example.org"].lower())

    assert "You're verified" in result.text and result.ephemeral
    assert [sent.role_id for sent in discord_side.of_kind("role_add") if sent.user_id == newcomer.id] == [
        h.role("Member").id
    ]
    entry = await h.bot.verification.get_entry(h.guild.id, "ada@example.org")
    assert entry.user_id == newcomer.id and entry.token_used_at is not None
    assert await count(h, "verify_deadline") == 0


async def test_wrong_expired_used_and_another_members_token_each_say_so(h, clock):
    await switch_on(h)
    tokens = await imported_tokens(
        h, "email,name,discord_username\nada@example.org,Ada,\ngrace@example.org,Grace,gracey\n"
    )
    first = await h.member_join("first")
    second = await h.member_join("second")

    wrong = await verify_by_command(h, first, "ada@example.org", "AAAA-BBBB-CCCC-DDDD")
    assert "don't match the roster" in wrong.text
    unknown = await verify_by_command(h, first, "nobody@example.org", tokens["ada@example.org"])
    assert unknown.text == wrong.text  # nobody learns who is on the roster

    named = await verify_by_command(h, first, "grace@example.org", tokens["grace@example.org"])
    assert "belongs to another Discord account" in named.text

    done = await verify_by_command(h, first, "ada@example.org", tokens["ada@example.org"])
    assert "You're verified" in done.text
    # A moderator takes the role away; the member's used token gives it back, without a second use.
    await first.remove_roles(h.role("Member"))
    await h.idle()
    again = await verify_by_command(h, first, "ada@example.org", tokens["ada@example.org"])
    assert "already verified with this token" in again.text
    assert h.guild.get_member(first.id).get_role(h.role("Member").id) is not None
    taken = await verify_by_command(h, second, "ada@example.org", tokens["ada@example.org"])
    assert "belongs to another Discord account" in taken.text

    clock.advance(days=8)
    late = await h.member_join("late")
    expired = await verify_by_command(h, late, "grace@example.org", tokens["grace@example.org"])
    assert "belongs to another Discord account" in expired.text  # the username rule comes before expiry
    entry = await h.bot.verification.get_entry(h.guild.id, "grace@example.org")
    assert entry.token_used_at is None and entry.user_id is None


async def test_an_expired_token_is_refused_and_links_nothing(h, clock):
    await switch_on(h)
    tokens = await imported_tokens(h, expiry_days=1)
    clock.advance(days=1, seconds=1)
    member = await h.member_join("slowpoke")
    result = await verify_by_dm(h, member, "alan@example.org", tokens["alan@example.org"])
    assert "expired" in result.text and "/verify refresh" in result.text
    entry = await h.bot.verification.get_entry(h.guild.id, "alan@example.org")
    assert entry.user_id is None and entry.verified_at is None


async def test_five_failures_lock_the_member_out_for_fifteen_minutes(h, clock):
    await switch_on(h)
    tokens = await imported_tokens(h)
    member = await h.member_join("guesser")
    # A form opened before the lock-out and submitted after it is refused too.
    early = await h.command("verify me", user=member, channel="verification")
    for _ in range(5):
        assert "don't match" in (await verify_by_command(h, member, "ada@example.org", "WRONG-TOKEN")).text
    locked = await h.submit_modal(
        early.modal, {EMAIL: "ada@example.org", TOKEN: tokens["ada@example.org"]}, user=member, channel="verification"
    )
    assert "Too many failed attempts" in locked.text
    reopened = await h.command("verify me", user=member, channel="verification")
    assert "Too many failed attempts" in reopened.text
    assert (await h.bot.verification.get_entry(h.guild.id, "ada@example.org")).user_id is None
    assert await count(h, "verify_attempt") == 5

    clock.advance(minutes=15, seconds=1)
    ok = await verify_by_command(h, member, "ada@example.org", tokens["ada@example.org"])
    assert "You're verified" in ok.text


async def test_a_member_is_kicked_at_the_deadline_and_not_before(h, clock, discord_side):
    await switch_on(h)
    member = await h.member_join("idle")
    clock.advance(minutes=4, seconds=59)
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")

    clock.advance(seconds=1)
    await h.bot.run_due_jobs()
    await h.idle()
    kicks = discord_side.of_kind("kick")
    assert [kick.user_id for kick in kicks] == [member.id]
    told = discord_side.dms_to(member.id)[-1]
    assert "did not verify within 5 minutes" in told.content and "rejoin" in told.content
    assert discord_side.sent.index(told) < discord_side.sent.index(kicks[0])  # told before the kick
    assert await count(h, "verify_deadline") == 0


async def test_no_kick_after_verifying_or_leaving(h, clock, discord_side):
    await switch_on(h)
    tokens = await imported_tokens(h)
    verified = await h.member_join("verified")
    leaver = await h.member_join("leaver")
    await verify_by_dm(h, verified, "ada@example.org", tokens["ada@example.org"])
    await h.member_leave(leaver)
    assert await count(h, "verify_deadline") == 0
    clock.advance(minutes=10)
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")


async def test_a_restart_keeps_pending_deadlines_and_kicks_once(h, restart, clock, discord_side):
    await switch_on(h)
    member = await h.member_join("sleeper")
    h = await restart()
    assert any(job.startswith("verification.kick:") for job in h.bot.jobs.job_ids())
    clock.advance(minutes=6)
    await h.bot.run_due_jobs()
    await h.idle()
    assert [kick.user_id for kick in discord_side.of_kind("kick")] == [member.id]

    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    assert len(discord_side.of_kind("kick")) == 1


async def test_a_claimed_deadline_is_not_kicked_twice(h, clock, discord_side):
    await switch_on(h)
    member = await h.member_join("claimed")
    deadline = await h.bot.verification.member_deadline(h.guild.id, member.id)
    clock.advance(minutes=5)
    now = clock.now()
    # Another run (a crashed process) holds the row for a while: this one must leave it alone.
    assert await h.bot.verification.claim_deadline(deadline.id, now=now, until=now + timedelta(minutes=2))
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")
    clock.advance(minutes=2)
    await h.bot.run_due_jobs()
    await h.idle()
    assert [kick.user_id for kick in discord_side.of_kind("kick")] == [member.id]


async def test_closed_dms_use_the_panel_or_verify_me(h, discord_side):
    await switch_on(h)
    tokens = await imported_tokens(h)
    panel_id = (await h.bot.verification.guild_state(h.guild.id)).panel_message_id
    discord_side.delete_stored_message(panel_id)
    discord_side.closed_dms.add(h.discord.next_id())
    member_id = h.discord.next_id() + 1
    discord_side.closed_dms.add(member_id)
    member = await h.member_join("private")
    assert member.id == member_id
    assert not discord_side.dms_to(member.id)

    # The panel was deleted: the join that needed it posted it again.
    state = await h.bot.verification.guild_state(h.guild.id)
    assert state.panel_message_id != panel_id
    panel = discord_side.stored_message(state.panel_message_id)
    opened = await h.click(panel, f"rollcall:verify:start:{h.guild.id}", user=member)
    done = await h.submit_modal(
        opened.modal,
        {EMAIL: "grace@example.org", TOKEN: tokens["grace@example.org"]},
        user=member,
        channel="verification",
    )
    assert "You're verified" in done.text and done.ephemeral


async def test_members_already_there_are_not_kicked_unless_enforced(h, clock, discord_side):
    await switch_on(h)
    clock.advance(minutes=30)
    await h.bot.run_due_jobs()
    await h.idle()
    assert not discord_side.of_kind("kick")

    students = {h.member(name).id for name in ("student", "student2", "student3", "organizer")}
    enforced = await h.command("verify enforce_existing", user="admin", channel="admin")
    assert "now have 5 minutes to verify" in enforced.text
    clock.advance(minutes=5)
    await h.bot.run_due_jobs()
    await h.idle()
    kicked = {kick.user_id for kick in discord_side.of_kind("kick")}
    assert kicked == students  # not the owner, the admin or the member who has the role


async def test_a_member_who_verified_and_rejoins_gets_the_role_back(h, discord_side):
    await switch_on(h)
    tokens = await imported_tokens(h)
    member = await h.member_join("returning")
    await verify_by_dm(h, member, "ada@example.org", tokens["ada@example.org"])
    await h.member_leave(member)
    # The same account joins again (the harness's member_join would make a new one).
    spec = UserSpec("returning", member.id)
    h.discord.world.join(spec)
    again = gateway.member_add(private.connection_state(h.bot), h.discord.world, spec, dispatch=True)
    await h.idle()
    assert await count(h, "verify_deadline") == 0
    assert [s.user_id for s in discord_side.of_kind("role_add")].count(again.id) == 2
    assert "still verified" in discord_side.dms_to(again.id)[-1].content


async def test_the_panel_is_posted_by_config_and_reposted_after_a_restart_if_deleted(h, restart, discord_side):
    await switch_on(h)
    state = await h.bot.verification.guild_state(h.guild.id)
    panel = discord_side.stored_message(state.panel_message_id)
    assert int(panel["channel_id"]) == h.channel("verification").id
    assert f"rollcall:verify:start:{h.guild.id}" in str(panel["components"])
    discord_side.delete_stored_message(state.panel_message_id)
    h = await restart()
    await h.bot.run_due_jobs()
    await h.idle()
    reposted = (await h.bot.verification.guild_state(h.guild.id)).panel_message_id
    assert reposted != state.panel_message_id and discord_side.stored_message(reposted) is not None
