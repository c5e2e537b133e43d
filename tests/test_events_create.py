"""/event create: the slash options, the modal, times typed in the guild's zone, every refusal
(nothing created, everything typed given back) and the post it makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.harness.faults import forbidden

BERLIN = "Europe/Berlin"
FIELDS = ("event_title", "event_description", "event_start", "event_end", "event_location")


async def configure(h, *, timezone: str = BERLIN) -> None:
    result = await h.command(
        "config set", user="admin", channel="general", organizer_role=h.role("Organizer"), timezone=timezone
    )
    assert "Saved" in result.text, result.text


def modal_values(
    title: str = "Board game night",
    start: str = "2026-11-25 19:00",
    end: str = "22:00",
    *,
    description: str = "Bring a game.",
    location: str = "Room 4",
) -> dict[str, str]:
    return {
        "event_title": title,
        "event_description": description,
        "event_start": start,
        "event_end": end,
        "event_location": location,
    }


async def create_event(h, *, user: str = "admin", channel: str = "general", options: dict | None = None, **values):
    """Runs /event create and submits its modal; returns the modal submit's result."""
    opened = await h.command("event create", user=user, channel=channel, options=options or {})
    return await h.submit_modal(opened.modal, modal_values(**values), user=user, channel=channel)


async def created(h, **kwargs):
    """Creates an event that must succeed and returns its row."""
    result = await create_event(h, **kwargs)
    assert "is posted" in result.text, result.text
    return await latest_event(h)


async def latest_event(h):
    event_id = await h.bot.db.fetch_value("SELECT max(id) FROM event")
    return await h.bot.events.get(event_id) if event_id is not None else None


async def event_count(h) -> int:
    return int(await h.bot.db.fetch_value("SELECT count(*) FROM event"))


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


def berlin(*args: int) -> datetime:
    """A Berlin wall time in winter (UTC+1) as UTC."""
    return datetime(*args, tzinfo=UTC) - timedelta(hours=1)


# ---- accepted forms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "starts_at", "ends_at"),
    [
        ("2026-11-25 19:00", "22:00", berlin(2026, 11, 25, 19), berlin(2026, 11, 25, 22)),
        ("tomorrow 19:00", "2h", berlin(2026, 11, 24, 19), berlin(2026, 11, 24, 21)),
        ("next friday 18:30", "2026-11-27 20:00", berlin(2026, 11, 27, 18, 30), berlin(2026, 11, 27, 20)),
        # Now is 2026-11-23 09:00 UTC; a duration counts real time from now.
        ("in 2h", "3h", datetime(2026, 11, 23, 11, tzinfo=UTC), datetime(2026, 11, 23, 14, tzinfo=UTC)),
    ],
)
async def test_each_accepted_form_is_read_in_the_guild_zone(configured, discord_side, start, end, starts_at, ends_at):
    h = configured
    result = await create_event(h, start=start, end=end)
    assert result.ephemeral
    event = await latest_event(h)
    assert (event.starts_at, event.ends_at) == (starts_at, ends_at)
    posts = discord_side.channel_messages(h.channel("general").id)
    assert len(posts) == 1
    assert f"https://discord.com/channels/{h.guild.id}/{h.channel('general').id}/{posts[0].message_id}" in result.text
    assert event.message_id == posts[0].message_id


async def test_the_post_shows_title_times_location_status_counts_and_buttons(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 10})
    post = discord_side.channel_messages(h.channel("general").id)[0]
    embed = post.embeds[0]
    assert embed["title"] == "Board game night"
    assert embed["description"] == "Bring a game."
    start = int(event.starts_at.timestamp())
    assert f"<t:{start}:F>" in post.text and f"<t:{start}:R>" in post.text
    assert f"<t:{int(event.ends_at.timestamp())}:F>" in post.text
    assert "Location: Room 4" in post.text
    assert "Upcoming" in post.text
    assert "Going (0/10)" in post.text
    assert post.custom_ids == [
        f"rollcall:event:going:{event.id}",
        f"rollcall:event:interested:{event.id}",
        f"rollcall:event:not_going:{event.id}",
    ]


async def test_the_post_goes_to_the_channel_option_and_keeps_the_options(configured, discord_side):
    h = configured
    event = await created(h, options={"channel": h.channel("lecture-b"), "capacity": 3, "role": h.role("Student")})
    assert event.channel_id == h.channel("lecture-b").id
    assert (event.capacity, event.role_id) == (3, h.role("Student").id)
    assert len(discord_side.channel_messages(h.channel("lecture-b").id)) == 1
    assert discord_side.channel_messages(h.channel("general").id) == []


async def test_an_organizer_may_create_an_event(configured):
    event = await created(configured, user="organizer")
    assert event.created_by == configured.member("organizer").id


# ---- refusals: nothing created, everything typed given back -------------------------------


@pytest.mark.parametrize(
    ("start", "end", "said"),
    [
        ("whenever suits", "22:00", "no time of day"),
        ("2026-13-45 19:00", "22:00", "can't read it"),
        ("2026-11-25 19:00", "2026-11-25 18:00", "not after the start"),
        ("2026-11-20 19:00", "22:00", "already passed"),
        ("2029-06-01 19:00", "22:00", "more than two years"),
        ("", "22:00", "empty"),
        ("2026-11-25", "22:00", "no time of day"),
    ],
)
async def test_a_refused_time_creates_nothing_and_gives_back_what_was_typed(configured, discord_side, start, end, said):
    h = configured
    result = await create_event(h, start=start, end=end, description="Long rules text " * 5, location="Cellar")
    assert result.ephemeral
    assert said in result.text, result.text
    assert "Nothing was created" in result.text
    for typed in ("Board game night", start, end, "Cellar", "Long rules text"):
        assert typed in result.text, typed
    assert await event_count(h) == 0
    assert discord_side.channel_messages(h.channel("general").id) == []


async def test_a_refusal_gives_back_a_long_description_shortened_and_backticks_defused(configured):
    h = configured
    result = await create_event(h, start="nope", description="x```y" + "z" * 1990)
    assert "x'''y" in result.text
    assert len(result.text) <= 2000
    assert await event_count(h) == 0


async def test_a_time_skipped_by_the_clocks_going_forward_is_refused(configured):
    h = configured
    result = await create_event(h, start="2027-03-28 02:30", end="04:00")
    assert "does not exist in Europe/Berlin" in result.text
    assert "2027-03-28 02:30" in result.text
    assert await event_count(h) == 0


async def test_a_time_that_happens_twice_is_taken_the_first_time_with_a_note(configured):
    h = configured
    result = await create_event(h, start="2027-10-31 02:30", end="04:00")
    assert "happens twice" in result.text, result.text
    event = await latest_event(h)
    # The first 02:30 is still summer time (UTC+2).
    assert event.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


async def test_a_wall_time_across_the_change_of_clocks_keeps_its_local_hour(configured):
    h = configured
    event = await created(h, start="2027-03-28 19:00", end="21:00")
    assert event.starts_at == datetime(2027, 3, 28, 17, tzinfo=UTC)  # summer time, UTC+2


async def test_a_non_organizer_is_refused_and_no_modal_opens(configured):
    h = configured
    result = await h.command("event create", user="member", channel="general")
    assert result.response.response_type != 9
    assert "Only server admins" in result.text
    assert await event_count(h) == 0


async def test_a_channel_the_bot_cannot_post_in_is_refused_before_the_modal(configured):
    h = configured
    result = await h.command(
        "event create", user="admin", channel="general", options={"channel": h.channel("announcements")}
    )
    assert result.response.response_type != 9
    assert "Send Messages" in result.text, result.text
    assert await event_count(h) == 0


async def test_a_post_refused_by_discord_leaves_no_event_behind(configured, discord_side):
    h = configured
    general = h.channel("general")
    discord_side.fail_next("POST", f"/channels/{general.id}/messages", forbidden(50013, "Missing Permissions"))
    result = await create_event(h)
    assert "I couldn't post the event" in result.text, result.text
    assert "Board game night" in result.text
    assert await event_count(h) == 0
    assert discord_side.pending_faults() == []


async def test_capacity_outside_its_bounds_is_refused(configured):
    h = configured
    result = await h.command("event create", user="admin", channel="general", options={"capacity": 0})
    assert "capacity must be between 1 and 10000" in result.text
    assert await event_count(h) == 0


async def test_everyone_is_refused_as_the_role(configured):
    h = configured
    result = await h.command("event create", user="admin", channel="general", options={"role": h.guild.default_role})
    assert "@everyone" in result.text
    assert result.response.response_type != 9


# ---- sign-up cutoff ------------------------------------------------------------------------


async def test_a_cutoff_in_minutes_closes_that_long_before_the_start(configured):
    event = await created(configured, options={"signup_cutoff": "90"})
    assert event.signup_cutoff_at == event.starts_at - timedelta(minutes=90)


async def test_a_cutoff_as_a_time_is_read_in_the_guild_zone(configured):
    event = await created(configured, options={"signup_cutoff": "2026-11-25 12:00"})
    assert event.signup_cutoff_at == berlin(2026, 11, 25, 12)


async def test_a_cutoff_after_the_start_is_refused_with_the_typing_given_back(configured):
    h = configured
    result = await create_event(h, options={"signup_cutoff": "2026-11-26 12:00"}, start="2026-11-25 19:00")
    assert "must be before the start" in result.text
    assert "Board game night" in result.text and "Nothing was created" in result.text
    assert await event_count(h) == 0


async def test_an_unreadable_cutoff_is_refused_before_the_modal(configured):
    h = configured
    result = await h.command("event create", user="admin", channel="general", options={"signup_cutoff": "soonish"})
    assert result.response.response_type != 9
    assert "soonish" in result.text and "minutes before the start" in result.text


async def test_a_cutoff_past_its_bound_is_refused(configured):
    h = configured
    result = await h.command("event create", user="admin", channel="general", options={"signup_cutoff": "99999"})
    assert "sign-up cutoff must be between 0 and 40320 minutes" in result.text
