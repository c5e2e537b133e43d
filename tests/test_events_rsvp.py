"""RSVP buttons on an event post: the clicker's answer, capacity and the click-ordered
waitlist, promotions told by DM (or in the channel), and every refusal leaving rows untouched."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

import pytest

from tests.harness.faults import server_error
from tests.test_events_create import configure, created

GOING = "rollcall:event:going:{}"
INTERESTED = "rollcall:event:interested:{}"
NOT_GOING = "rollcall:event:not_going:{}"


@pytest.fixture
async def configured(h):
    await configure(h)
    return h


def post_of(h, discord_side, event):
    message = discord_side.stored_message(event.message_id)
    assert message is not None
    return message


async def click(h, discord_side, event, template: str, user: str):
    return await h.click(post_of(h, discord_side, event), template.format(event.id), user=user)


async def statuses(h, event) -> dict[str, str]:
    names = {member.id: member.name for member in h.guild.members}
    return {names.get(rsvp.user_id, str(rsvp.user_id)): rsvp.status for rsvp in await h.bot.events.list_rsvps(event.id)}


# ---- answers -------------------------------------------------------------------------------


async def test_each_button_answers_the_clicker_with_their_new_state(configured, discord_side):
    h = configured
    event = await created(h)
    going = await click(h, discord_side, event, GOING, "student")
    assert going.ephemeral and "You're going to **Board game night**" in going.text
    interested = await click(h, discord_side, event, INTERESTED, "student")
    assert interested.ephemeral and "Interested" in interested.text
    not_going = await click(h, discord_side, event, NOT_GOING, "student")
    assert not_going.ephemeral and "not going" in not_going.text
    assert await statuses(h, event) == {"student": "not_going"}


async def test_going_beyond_capacity_joins_the_waitlist_in_click_order(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 1})
    await click(h, discord_side, event, GOING, "student")
    second = await click(h, discord_side, event, GOING, "student2")
    third = await click(h, discord_side, event, GOING, "student3")
    assert "The event is full: you're #1 on the waitlist" in second.text
    assert "#2 on the waitlist" in third.text
    assert await statuses(h, event) == {"student": "going", "student2": "waitlist", "student3": "waitlist"}


async def test_two_members_racing_for_the_last_seat_never_overbook_it(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 1})
    post = post_of(h, discord_side, event)
    before = asyncio.all_tasks()
    for name in ("student", "student2"):
        h.dispatch_nowait(h.component_payload(post, GOING.format(event.id), user=h.member(name)))
    await h.idle(exclude=before)
    rows = await statuses(h, event)
    assert sorted(rows.values()) == ["going", "waitlist"]
    answers = [s.text for s in discord_side.of_kind("response") if s.ephemeral][-2:]
    assert sum("You're going" in text for text in answers) == 1
    assert sum("#1 on the waitlist" in text for text in answers) == 1


# ---- promotion -----------------------------------------------------------------------------


async def test_leaving_a_seat_promotes_the_first_waiting_member_and_dms_them(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 1})
    await click(h, discord_side, event, GOING, "student")
    await click(h, discord_side, event, GOING, "student2")
    await click(h, discord_side, event, GOING, "student3")
    await click(h, discord_side, event, NOT_GOING, "student")
    assert await statuses(h, event) == {"student": "not_going", "student2": "going", "student3": "waitlist"}
    dms = discord_side.dms_to(h.member("student2").id)
    assert len(dms) == 1 and "A seat freed up: you're now going to **Board game night**" in dms[0].content
    assert discord_side.dms_to(h.member("student3").id) == []


async def test_a_promoted_member_with_closed_dms_is_mentioned_in_the_event_channel(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 1})
    await click(h, discord_side, event, GOING, "student")
    await click(h, discord_side, event, GOING, "student2")
    discord_side.closed_dms.add(h.member("student2").id)
    left = await click(h, discord_side, event, INTERESTED, "student")
    assert "Interested" in left.text
    notices = [m for m in discord_side.channel_messages(h.channel("general").id) if "seat freed up" in m.content]
    assert len(notices) == 1
    promoted_id = h.member("student2").id
    assert f"<@{promoted_id}>" in notices[0].content
    assert [int(user) for user in notices[0].payload["allowed_mentions"]["users"]] == [promoted_id]


async def test_a_failed_promotion_dm_never_breaks_the_click(configured, discord_side):
    h = configured
    event = await created(h, options={"capacity": 1})
    await click(h, discord_side, event, GOING, "student")
    await click(h, discord_side, event, GOING, "student2")
    discord_side.fail_next("POST", "/channels/{channel_id}/messages", server_error(), times=5)
    left = await click(h, discord_side, event, NOT_GOING, "student")
    assert "not going" in left.text
    assert await statuses(h, event) == {"student": "not_going", "student2": "going"}


# ---- refusals ------------------------------------------------------------------------------


async def test_a_member_without_the_events_role_is_told_which_role(configured, discord_side):
    h = configured
    event = await created(h, options={"role": h.role("Student")})
    refused = await click(h, discord_side, event, GOING, "member")
    assert refused.ephemeral
    assert f"Only members with <@&{h.role('Student').id}> can RSVP" in refused.text
    assert await statuses(h, event) == {}
    allowed = await click(h, discord_side, event, GOING, "student")
    assert "You're going" in allowed.text


async def test_clicks_after_the_signup_cutoff_are_refused(configured, discord_side, clock):
    h = configured
    event = await created(h, options={"signup_cutoff": "60"})
    clock.set(event.signup_cutoff_at + timedelta(seconds=1))
    refused = await click(h, discord_side, event, GOING, "student")
    assert f"closed <t:{int(event.signup_cutoff_at.timestamp())}:R>" in refused.text
    assert await statuses(h, event) == {}


async def test_clicks_after_the_start_are_refused_when_there_is_no_cutoff(configured, discord_side, clock):
    h = configured
    event = await created(h)
    clock.set(event.starts_at + timedelta(minutes=5))
    refused = await click(h, discord_side, event, GOING, "student")
    assert f"closed <t:{int(event.starts_at.timestamp())}:R>" in refused.text
    assert await statuses(h, event) == {}


async def test_clicks_on_an_ended_event_are_refused(configured, discord_side, clock):
    h = configured
    event = await created(h)
    clock.set(event.ends_at + timedelta(minutes=1))
    refused = await click(h, discord_side, event, GOING, "student")
    assert "ended" in refused.text
    assert await statuses(h, event) == {}


async def test_clicks_on_a_cancelled_event_are_refused(configured, discord_side, clock):
    h = configured
    event = await created(h)
    await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=clock.now())
    refused = await click(h, discord_side, event, GOING, "student")
    assert "was cancelled" in refused.text
    assert await statuses(h, event) == {}


async def test_a_click_on_a_deleted_events_post_says_it_no_longer_exists(configured, discord_side):
    h = configured
    event = await created(h)
    post = post_of(h, discord_side, event)
    await h.bot.db.execute("DELETE FROM event WHERE id = ?", (event.id,))
    refused = await h.click(post, GOING.format(event.id), user="student")
    assert refused.ephemeral and "This event no longer exists." in refused.text
    assert int(await h.bot.db.fetch_value("SELECT count(*) FROM event_rsvp")) == 0


async def test_a_forged_button_naming_another_guilds_event_touches_nothing(configured, discord_side, clock):
    h = configured
    ours = await created(h)
    theirs = await h.bot.events.create(
        guild_id=h.guild.id + 1,
        channel_id=h.channel("general").id + 1,
        created_by=1,
        now=clock.now(),
        title="Their secret event",
        description="",
        location="",
        starts_at=ours.starts_at,
        ends_at=ours.ends_at,
        capacity=None,
        role_id=None,
        signup_cutoff_at=None,
    )
    forged = copy.deepcopy(post_of(h, discord_side, ours))
    for row in forged["components"]:
        for button in row["components"]:
            button["custom_id"] = button["custom_id"].replace(f":{ours.id}", f":{theirs.id}")
    refused = await h.click(forged, GOING.format(theirs.id), user="student")
    assert "This event no longer exists." in refused.text
    assert "secret" not in refused.text
    assert await h.bot.events.list_rsvps(theirs.id) == []


# ---- restarts ------------------------------------------------------------------------------


async def test_buttons_work_after_a_restart(configured, discord_side, restart):
    h = configured
    event = await created(h, options={"capacity": 1})
    await click(h, discord_side, event, GOING, "student")
    h = await restart()
    answered = await click(h, discord_side, event, GOING, "student2")
    assert "#1 on the waitlist" in answered.text
    assert await statuses(h, event) == {"student": "going", "student2": "waitlist"}
