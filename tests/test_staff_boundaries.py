"""Where staff-only data and settings end: autocomplete for non-staff, a private admin channel,
reminder offsets typed as text, and corrections for people outside the server."""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest
from discord.ext.test import backend as dpy_backend
from discord.ext.test import factories as dpy_factories

from bot.checks import AUDIENCE_EVERYONE, AUDIENCE_ORGANIZER, command_audience
from cogs.help import walk_leaf_commands
from storage.presets import Slot
from tests.harness import private
from utils.settings_text import REMINDER_OFFSETS_FORM


async def snapshot(h):
    h.bot.guild_configs.invalidate(h.guild.id)
    return await h.bot.guild_configs.get(h.guild.id)


async def set_config(h, *, channel: str = "general", **options):
    result = await h.command("config set", user="admin", channel=channel, **options)
    assert "Saved" in result.text, result.text


def make_private(h, name: str, *, visible_to: tuple[str, ...] = ("Rollcall",)) -> discord.TextChannel:
    """What an admin does to hide a channel: deny @everyone, allow the roles that should see it."""
    channel = h.channel(name)
    h.set_channel_overwrite(channel, h.guild.default_role, discord.PermissionOverwrite(view_channel=False))
    for role_name in visible_to:
        h.set_channel_overwrite(channel, h.role(role_name), discord.PermissionOverwrite(view_channel=True))
    return h.channel(name)


def outsider(h, name: str = "visitor", user_id: int | None = None) -> discord.User:
    """A Discord user who is not a member of the server: Discord resolves them as a user only."""
    data = dpy_factories.make_user_dict(name, "0001", None, user_id or h.discord.next_id())
    user = discord.User(state=private.connection_state(h.bot), data=data)
    assert h.guild.get_member(user.id) is None
    return user


# ---- autocomplete of staff-only commands ----------------------------------------------------


def staff_autocompletes(tree: discord.app_commands.CommandTree) -> list[tuple[discord.app_commands.Command, str]]:
    return [
        (command, parameter.display_name)
        for command in walk_leaf_commands(tree)
        if command_audience(command) != AUDIENCE_EVERYONE
        for parameter in command.parameters
        if parameter.autocomplete
    ]


async def test_every_staff_autocomplete_offers_nothing_to_non_staff_and_choices_to_staff(h):
    await set_config(h, admin_channel=h.channel("admin"), organizer_role=h.role("Organizer"))
    general = h.channel("general")
    opened = await h.command("attendance open", user="admin", channel="admin", options={"channel": general})
    assert "is open in" in opened.text, opened.text
    # Every `event` option needs an event to offer.
    now = h.bot.clock.now()
    # Every `preset` option needs a preset, and slot options a preset or event with slots.
    preset = await h.bot.presets.create(
        guild_id=h.guild.id,
        name="Raid",
        description="",
        slots=[Slot(0, "Tank", 2, None)],
        actor_id=h.member("admin").id,
        now=now,
    )
    event = await h.bot.events.create(
        guild_id=h.guild.id,
        channel_id=general.id,
        created_by=h.member("admin").id,
        now=now,
        title="Open day",
        description="",
        location="",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
        slots=preset.slots,
    )
    # Options whose choices depend on another option already chosen.
    chosen_first = {("preset slot_role", "slot"): {"preset": "Raid"}, ("event slot", "slot"): {"event": event.id}}

    found = staff_autocompletes(h.bot.tree)
    names = {(command.qualified_name, option) for command, option in found}
    # Guards the walk itself: these are known to exist, so an empty walk can't pass silently.
    assert {("attendance mark", "session"), ("attendance export", "session"), ("config set", "timezone")} <= names
    for command, option in found:
        where = f"/{command.qualified_name} {option}"
        for who in ("student", "member"):
            choices = await h.autocomplete(
                command.qualified_name,
                option,
                user=who,
                channel="admin",
                options={**chosen_first.get((command.qualified_name, option), {}), option: ""},
            )
            assert choices == [], f"{where} offered {who} {choices}"
        admin_choices = await h.autocomplete(
            command.qualified_name,
            option,
            user="admin",
            channel="admin",
            options={**chosen_first.get((command.qualified_name, option), {}), option: ""},
        )
        assert admin_choices, f"{where} offered the admin nothing"
        organizer_choices = await h.autocomplete(
            command.qualified_name,
            option,
            user="organizer",
            channel="admin",
            options={**chosen_first.get((command.qualified_name, option), {}), option: ""},
        )
        if command_audience(command) == AUDIENCE_ORGANIZER:
            assert organizer_choices == admin_choices, where
        else:
            assert organizer_choices == [], f"{where} offered the organizer {organizer_choices}"


async def test_session_autocomplete_is_empty_for_a_student_even_in_the_roll_call_channel(h):
    await set_config(h, admin_channel=h.channel("admin"))
    await h.command("attendance open", user="admin", channel="admin", options={"channel": h.channel("general")})
    choices = await h.autocomplete("attendance export", "session", user="student", channel="general", session="")
    assert choices == []


async def test_staff_autocomplete_follows_the_admin_channel_rule_like_the_command(h):
    await set_config(h, admin_channel=h.channel("admin"))
    await h.command("attendance open", user="admin", channel="admin", options={"channel": h.channel("general")})
    elsewhere = await h.autocomplete("attendance close", "session", user="admin", channel="general", session="")
    assert elsewhere == []
    inside = await h.autocomplete("attendance close", "session", user="admin", channel="admin", session="")
    assert len(inside) == 1


async def test_organizer_autocomplete_opens_only_once_the_role_is_set(h):
    await h.command("attendance open", user="admin", options={"channel": h.channel("general")})
    before = await h.autocomplete("attendance mark", "session", user="organizer", session="")
    assert before == []
    await set_config(h, organizer_role=h.role("Organizer"))
    after = await h.autocomplete("attendance mark", "session", user="organizer", session="")
    assert len(after) == 1


# ---- the admin channel must be private and visible to organizers ----------------------------


async def assert_refused(h, before, audit_before, result, *fragments: str) -> None:
    assert result.ephemeral
    for fragment in fragments:
        assert fragment in result.text, result.text
    assert await snapshot(h) == before
    assert await h.bot.audit.list(h.guild.id) == audit_before


async def test_a_public_admin_channel_is_refused_with_the_fix_and_nothing_is_saved(h):
    before = await snapshot(h)
    general = h.channel("general")
    result = await h.command("config set", user="admin", admin_channel=general, timezone="Europe/Paris")
    await assert_refused(
        h,
        before,
        [],
        result,
        f"{general.mention} is visible to @everyone",
        f"Deny View Channel for @everyone in {general.mention}'s permissions",
    )


async def test_a_private_admin_channel_is_accepted_without_an_organizer_role(h):
    lecture = make_private(h, "lecture-b", visible_to=("Rollcall", "Admin"))
    await set_config(h, admin_channel=lecture)
    assert (await snapshot(h)).admin_channel_id == lecture.id


async def test_an_admin_channel_the_organizer_role_cannot_view_is_refused(h):
    await set_config(h, organizer_role=h.role("Organizer"))
    before = await snapshot(h)
    audit_before = await h.bot.audit.list(h.guild.id)
    lecture = make_private(h, "lecture-b", visible_to=("Rollcall", "Admin"))
    organizer = h.role("Organizer")
    result = await h.command("config set", user="admin", admin_channel=lecture, code_length=6)
    await assert_refused(
        h,
        before,
        audit_before,
        result,
        f"{organizer.mention} can't view the admin channel {lecture.mention}",
        f"Allow View Channel for {organizer.mention} in {lecture.mention}'s permissions",
    )


async def test_an_admin_channel_hidden_from_an_organizer_role_set_in_the_same_command_is_refused(h):
    before = await snapshot(h)
    lecture = make_private(h, "lecture-b", visible_to=("Rollcall", "Admin"))
    organizer = h.role("Organizer")
    result = await h.command("config set", user="admin", admin_channel=lecture, organizer_role=organizer)
    await assert_refused(h, before, [], result, f"{organizer.mention} can't view the admin channel {lecture.mention}")


async def test_an_organizer_role_that_cannot_view_the_admin_channel_is_refused(h):
    await set_config(h, admin_channel=h.channel("admin"))
    before = await snapshot(h)
    audit_before = await h.bot.audit.list(h.guild.id)
    student = h.role("Student")
    admin = h.channel("admin")
    result = await h.command("config set", user="admin", channel="admin", organizer_role=student)
    await assert_refused(
        h,
        before,
        audit_before,
        result,
        f"{student.mention} can't view the admin channel {admin.mention}",
        f"Allow View Channel for {student.mention} in {admin.mention}'s permissions",
    )


async def test_an_organizer_role_that_can_view_the_admin_channel_is_accepted(h):
    await set_config(h, admin_channel=h.channel("admin"))
    await set_config(h, channel="admin", organizer_role=h.role("Organizer"))
    assert (await snapshot(h)).organizer_role_id == h.role("Organizer").id


# ---- reminder offsets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ("-5", "`-5` is not one: reminders come before the start."),
        ("0", "`0` is not one: reminders come before the start."),
        ("60,0", "`0` is not one"),
        ("²", "`²` is not one."),
        ("abc", "`abc` is not one."),
        ("1.5", "`1.5` is not one."),
        ("60 10", "`60 10` is not one."),
        ("50000", "`50000` is more than 40320 minutes."),
        ("9" * 5000, "is more than 40320 minutes."),
        ("1,2,3,4,5,6", "you gave 6 different values."),
        (" , ", "you gave none."),
    ],
)
async def test_refused_reminder_offsets_name_the_accepted_form_and_save_nothing(h, typed, refused):
    before = await snapshot(h)
    result = await h.command("config set", user="admin", reminder_offsets=typed, timezone="Europe/Paris")
    await assert_refused(h, before, [], result, REMINDER_OFFSETS_FORM, "like `60,10`", refused)
    assert "invalid literal" not in result.text and "base 10" not in result.text
    assert len(result.text) <= 2000


async def test_repeated_reminder_offsets_are_merged(h):
    await set_config(h, reminder_offsets="60,60,10")
    assert (await snapshot(h)).reminder_offsets == (60, 10)


# ---- corrections for people outside the server -----------------------------------------------


async def open_roll_call(h):
    await set_config(h, admin_channel=h.channel("admin"), attendance_channel=h.channel("attendance"))
    result = await h.command("attendance open", user="admin", channel="admin")
    assert "is open in" in result.text, result.text
    return await h.bot.attendance.get_latest(h.guild.id)


async def test_marking_a_user_who_is_not_in_the_server_is_refused_and_changes_nothing(h, discord_side):
    session = await open_roll_call(h)
    visitor = outsider(h)
    sent_before = len(discord_side.sent)
    result = await h.command("attendance mark", user="admin", channel="admin", member=visitor, status="present")
    assert result.ephemeral
    assert f"{visitor.mention} is not a member of this server, so they can't be marked" in result.text
    assert await h.bot.attendance.get_record(session.id, visitor.id) is None
    assert await h.bot.audit.list(h.guild.id, action_prefix="attendance.") == []
    assert [sent.kind for sent in discord_side.sent[sent_before:]] == ["response"]


async def test_a_record_of_someone_who_left_can_still_be_removed(h):
    session = await open_roll_call(h)
    leaver = h.member("student3")
    marked = await h.command("attendance mark", user="admin", channel="admin", member=leaver, status="excused")
    assert "is now **excused**" in marked.text
    dpy_backend.delete_member(leaver)
    gone = outsider(h, "student3", leaver.id)
    result = await h.command("attendance unmark", user="admin", channel="admin", member=gone)
    assert f"Removed {gone.mention}'s record (excused)" in result.text
    assert await h.bot.attendance.get_record(session.id, leaver.id) is None
