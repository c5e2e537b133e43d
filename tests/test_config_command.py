"""/config set and /config show through real interactions."""

from __future__ import annotations

import pytest


async def test_set_then_show_round_trip(h):
    result = await h.command(
        "config set",
        user="admin",
        admin_channel=h.channel("admin"),
        attendance_channel=h.channel("attendance"),
        verification_channel=h.channel("verification"),
        log_channel=h.channel("log"),
        organizer_role=h.role("Organizer"),
        member_role=h.role("Member"),
        timezone="Europe/Berlin",
        code_interval=20,
        code_length=6,
        grace_seconds=5,
        late_after_minutes=15,
        verification_timeout_minutes=30,
        reminder_offsets="10, 120 ,60",
    )
    assert result.ephemeral
    assert "Saved 13 setting(s)" in result.text

    shown = await h.command("config show", user="admin", channel="admin")
    text = shown.text
    assert shown.ephemeral
    assert f"Admin: <#{h.channel('admin').id}>" in text
    assert f"Attendance: <#{h.channel('attendance').id}>" in text
    assert f"Organizer: <@&{h.role('Organizer').id}>" in text
    assert "Europe/Berlin" in text
    assert "Code every 20 s, 6 characters" in text
    assert "Previous code accepted for 5 s" in text
    assert "Late after 15 min" in text
    assert "30 min" in text
    assert "120 min, 60 min, 10 min before start" in text

    config = await h.bot.guild_configs.get(h.guild.id)
    assert config.reminder_offsets == (120, 60, 10)
    audit = await h.bot.audit.list(h.guild.id, action_prefix="config.")
    assert {entry.subject for entry in audit} >= {"timezone", "code_interval_seconds", "reminder_offsets"}
    assert all(entry.actor_id == h.member("admin").id for entry in audit)


async def test_defaults_are_shown_before_anything_is_set(h):
    text = (await h.command("config show", user="admin")).text
    assert "Time zone: UTC" in text
    assert "Code every 15 s, 4 characters" in text
    assert "60 min, 10 min before start" in text


async def snapshot(h):
    h.bot.guild_configs.invalidate(h.guild.id)
    return await h.bot.guild_configs.get(h.guild.id)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "not a time zone I know"),
        ({"code_interval": 3}, "between 5 and 3600 seconds"),
        ({"code_length": 9}, "between 3 and 8 characters"),
        ({"code_length": 2}, "between 3 and 8 characters"),
        ({"grace_seconds": 15}, "must be shorter than the code interval"),
        ({"late_after_minutes": 5000}, "between 0 and 1440 minutes"),
        ({"verification_timeout_minutes": 0}, "between 1 and 10080 minutes"),
        ({"reminder_offsets": "soon"}, "`soon` is not one"),
        ({"reminder_offsets": "60,0"}, "`0` is not one"),
        ({"reminder_offsets": "1,2,3,4,5,6"}, "you gave 6 different values"),
        ({"reminder_offsets": "'; DROP TABLE guild_config; --"}, "is not one"),
        ({}, "Nothing to change"),
    ],
)
async def test_bad_values_are_refused_and_nothing_is_saved(h, options, expected):
    before = await snapshot(h)
    result = await h.command("config set", user="admin", **options)
    assert result.ephemeral
    assert expected in result.text
    assert await snapshot(h) == before
    assert await h.bot.audit.list(h.guild.id) == []


async def test_a_refused_value_also_discards_the_good_values_sent_with_it(h):
    before = await snapshot(h)
    result = await h.command("config set", user="admin", timezone="Europe/Paris", code_interval=2)
    assert "between 5 and 3600 seconds" in result.text
    assert await snapshot(h) == before


async def test_channel_the_bot_cannot_post_in_is_refused_with_the_fix(h):
    before = await snapshot(h)
    result = await h.command("config set", user="admin", attendance_channel=h.channel("announcements"))
    assert "I can't post in" in result.text
    assert "Send Messages" in result.text
    assert "Edit Channel → Permissions" in result.text
    assert await snapshot(h) == before


async def test_role_above_the_bot_is_refused_with_the_fix(h):
    before = await snapshot(h)
    result = await h.command("config set", user="admin", member_role=h.role("Moderators"))
    assert "at or above my highest role" in result.text
    assert "Server Settings → Roles" in result.text
    result = await h.command("config set", user="admin", organizer_role=h.role("Rollcall"))
    assert "at or above my highest role" in result.text
    assert await snapshot(h) == before


async def test_everyone_role_is_refused(h):
    result = await h.command("config set", user="admin", member_role=h.guild.default_role)
    assert "@everyone can't be used" in result.text


async def test_timezone_autocomplete_offers_iana_names(h):
    choices = await h.autocomplete("config set", "timezone", user="admin", timezone="berl")
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices
    choices = await h.autocomplete("config set", "timezone", user="admin", timezone="new york")
    assert choices[0]["value"] == "America/New_York"
    assert len(await h.autocomplete("config set", "timezone", user="admin", timezone="")) == 25


@pytest.mark.parametrize("who", ["member", "student", "organizer"])
@pytest.mark.parametrize("command", ["config show", "config set"])
async def test_non_admins_are_refused_every_config_command(h, who, command):
    before = await snapshot(h)
    options = {"timezone": "Europe/Paris"} if command == "config set" else {}
    result = await h.command(command, user=who, **options)
    assert result.ephemeral
    assert "Only server admins (Manage Server) can use this command." in result.text
    assert await snapshot(h) == before


async def test_admin_commands_answer_only_in_the_admin_channel(h):
    await h.command("config set", user="admin", admin_channel=h.channel("admin"))
    elsewhere = await h.command("config show", user="admin", channel="general")
    assert f"only in <#{h.channel('admin').id}>" in elsewhere.text
    inside = await h.command("config show", user="admin", channel="admin")
    assert "Rollcall settings" in inside.text


async def test_server_owner_counts_as_admin(h, world):
    owner = h.member("owner")
    assert h.guild.owner_id == owner.id
    assert owner.roles == [h.guild.default_role]  # an admin by ownership alone
    result = await h.command("config show", user=owner)
    assert "Rollcall settings" in result.text


async def test_settings_survive_a_restart(h, restart):
    await h.command("config set", user="admin", timezone="Asia/Tokyo", code_length=5, reminder_offsets="30")
    h2 = await restart()
    text = (await h2.command("config show", user="admin")).text
    assert "Asia/Tokyo" in text
    assert "5 characters" in text
    assert "30 min before start" in text


async def test_unicode_and_emoji_in_text_options_are_refused_cleanly(h):
    result = await h.command("config set", user="admin", timezone="Europe/Berlin 🎉")
    assert "not a time zone I know" in result.text
