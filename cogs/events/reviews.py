"""/event review: after an event ends, members who attended rate it (1 to 5 stars, an optional
comment). One review per member, which they may change; the post and /event info show the
average and the count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from discord import app_commands

from bot.checks import ensure_in_range
from bot.errors import InvalidInput, NotAllowed
from bot.replies import send_reply
from cogs.events.group import event_group
from cogs.events.listing import EventListCommands, find_event
from utils.limits import REVIEW_COMMENT, REVIEW_RATING
from utils.text import shorten
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.types import Interaction
    from storage.event_reviews import ReviewRepository
    from storage.events import EventRepository

# Discord's own ceiling for a string option; the bot's limit is REVIEW_COMMENT, checked in code so
# that a longer comment gets a clear refusal instead of vanishing in the client.
OPTION_TEXT_LIMIT = 6_000
STARS = "★"


def stars(rating: int) -> str:
    return STARS * rating + "☆" * (REVIEW_RATING.high - rating)


class EventReviewCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py)."""

    events: EventRepository
    event_reviews: ReviewRepository
    clock: Clock
    refresh_post: Callable[[int], Awaitable[None]]

    @event_group.command(name="review", description="Rate an event you attended, after it ended")
    @app_commands.describe(
        event="The event (start typing its title)",
        rating=f"{REVIEW_RATING.low} to {REVIEW_RATING.high} stars",
        comment=f"What you thought of it, up to {REVIEW_COMMENT.high} characters",
    )
    @app_commands.autocomplete(event=EventListCommands.event_autocomplete)
    async def event_review(
        self,
        interaction: Interaction,
        event: int,
        rating: app_commands.Range[int, REVIEW_RATING.low, REVIEW_RATING.high],
        comment: app_commands.Range[str, 1, OPTION_TEXT_LIMIT] | None = None,
    ) -> None:
        found = await find_event(self.events, interaction.guild_id, event)
        ensure_in_range("The rating", rating, REVIEW_RATING.bounds, REVIEW_RATING.unit)
        text = (comment or "").strip()
        if len(text) > REVIEW_COMMENT.high:
            raise InvalidInput(
                f"Your comment is {len(text)} characters long; at most {REVIEW_COMMENT.high} fit. Nothing was saved. "
                f"Its start, to shorten and send again:\n> {shorten(text, 300)}"
            )
        now = self.clock.now()
        status = found.status_at(now)
        if status == "cancelled":
            raise NotAllowed(f"**{found.title}** was cancelled, so it can't be reviewed.")
        if status != "ended":
            raise NotAllowed(
                f"**{found.title}** ends {discord_timestamp(found.ends_at, 'R')}: reviews open once it is over."
            )
        if not await self.event_reviews.attended(found.id, interaction.user.id):
            raise NotAllowed(
                f"Only members who attended **{found.title}** can review it, and you are not on its attendance."
            )
        first = await self.event_reviews.save(found.id, interaction.user.id, rating=rating, comment=text, now=now)
        await self.refresh_post(found.id)
        summary = await self.event_reviews.summary(found.id)
        verb = "Thanks! Your review" if first else "Updated: your review"
        await send_reply(
            interaction,
            f"{verb} of **{found.title}** is saved: {stars(rating)}"
            + (f"\n> {shorten(text, 300)}" if text else "")
            + f"\nThe event now has {summary.describe()}.",
        )
