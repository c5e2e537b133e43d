"""/event review through real interactions: who may rate an event and when, the bounds of a
rating and a comment, editing one's review, and the average on the post and in /event info."""

from __future__ import annotations

from tests.test_events_manage import configure, create_event, post_embed


async def attend(h, event, name: str) -> None:
    await h.bot.events.record_attendance(event.id, h.member(name).id, now=event.starts_at, source="command")


async def reviews(h) -> list:
    rows = await h.bot.db.fetch_all("SELECT * FROM event_review ORDER BY user_id")
    return [(row["user_id"], row["rating"], row["comment"]) for row in rows]


async def ended_event(h, clock):
    await configure(h)
    event = await create_event(h)
    await attend(h, event, "student")
    await attend(h, event, "student2")
    clock.set(event.ends_at)
    return event


async def test_an_attendee_rates_an_ended_event_and_the_post_shows_the_average(h, clock, discord_side):
    event = await ended_event(h, clock)
    first = await h.command("event review", user="student", event=event.id, rating=5, comment="Great raid!")
    assert first.ephemeral
    assert "Thanks! Your review" in first.text and "★★★★★" in first.text
    second = await h.command("event review", user="student2", event=event.id, rating=4)
    assert "★ 4.5 / 5 (2 reviews)" in second.text
    assert await reviews(h) == [(h.member("student").id, 5, "Great raid!"), (h.member("student2").id, 4, "")]
    await h.bot.run_due_jobs()
    fields = {field["name"]: field["value"] for field in post_embed(discord_side, event)["fields"]}
    assert fields["Reviews"] == "★ 4.5 / 5 (2 reviews)"
    info = await h.command("event info", user="member", event=event.id)
    info_fields = {field["name"]: field["value"] for field in info.reply.embeds[0]["fields"]}
    assert info_fields["Reviews"] == "★ 4.5 / 5 (2 reviews)"


async def test_a_member_edits_their_review_instead_of_adding_one(h, clock):
    event = await ended_event(h, clock)
    await h.command("event review", user="student", event=event.id, rating=2, comment="Meh")
    edited = await h.command("event review", user="student", event=event.id, rating=4, comment="Grew on me")
    assert "Updated: your review" in edited.text
    assert await reviews(h) == [(h.member("student").id, 4, "Grew on me")]
    assert "★ 4.0 / 5 (1 review)" in edited.text


async def test_a_member_who_did_not_attend_is_refused(h, clock):
    event = await ended_event(h, clock)
    refused = await h.command("event review", user="member", event=event.id, rating=5)
    assert "Only members who attended" in refused.text
    assert refused.ephemeral
    assert await reviews(h) == []


async def test_reviews_open_only_after_the_end(h, clock):
    await configure(h)
    event = await create_event(h)
    await attend(h, event, "student")
    clock.set(event.starts_at)
    refused = await h.command("event review", user="student", event=event.id, rating=5)
    assert "reviews open once it is over" in refused.text
    assert await reviews(h) == []


async def test_a_rating_out_of_range_is_refused(h, clock):
    event = await ended_event(h, clock)
    for rating in (0, 6, -1):
        refused = await h.command("event review", user="student", event=event.id, rating=rating)
        assert "The rating must be between 1 and 5 stars" in refused.text, refused.text
    assert await reviews(h) == []


async def test_a_comment_past_500_characters_is_refused_and_echoed(h, clock):
    event = await ended_event(h, clock)
    refused = await h.command("event review", user="student", event=event.id, rating=4, comment="x" * 501)
    assert "501 characters long; at most 500 fit" in refused.text
    assert "Nothing was saved" in refused.text
    assert await reviews(h) == []
    fits = await h.command("event review", user="student", event=event.id, rating=4, comment="y" * 500)
    assert "saved" in fits.text
    assert await reviews(h) == [(h.member("student").id, 4, "y" * 500)]


async def test_a_cancelled_event_cannot_be_reviewed(h, clock):
    event = await ended_event(h, clock)
    await h.bot.events.cancel(event, actor_id=h.member("admin").id, now=clock.now())
    refused = await h.command("event review", user="student", event=event.id, rating=3)
    assert "was cancelled" in refused.text
    assert await reviews(h) == []


async def test_another_servers_event_reads_as_missing(h, clock):
    from tests.test_events_manage import insert_event

    await configure(h)
    foreign = await insert_event(h, guild_id=999)
    clock.set(foreign.ends_at)
    refused = await h.command("event review", user="student", event=foreign.id, rating=3)
    assert f"No event #{foreign.id} in this server" in refused.text
    assert await reviews(h) == []


async def test_info_says_when_there_are_no_reviews_yet(h, clock):
    event = await ended_event(h, clock)
    info = await h.command("event info", user="member", event=event.id)
    fields = {field["name"]: field["value"] for field in info.reply.embeds[0]["fields"]}
    assert fields["Reviews"] == "No reviews yet"
