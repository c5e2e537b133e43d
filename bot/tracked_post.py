"""Messages the bot keeps up to date: the roll call's code message today; event posts, the
verification panel and sign-up posts next. Nothing here knows what a post is about.

The owner stores the message's id on its own row and hands a `TrackedPost` to `refresh` with the
new embed. The helper edits the message; when it was deleted it posts it again and hands the new
id to the owner's `store` callback. A channel that refuses the bot (which permission is missing)
or is gone is told to the admins once per post, not at every refresh: the post stays in
`reported` until a refresh works again (logged) or the owner calls `forget`. `reported` lives in
memory, so after a restart a post still in trouble is told once more.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord
from discord.utils import MISSING

from bot.delivery import Delivery, Outcome, Result, permission_label

log = logging.getLogger(__name__)

# What an embed post needs from its channel; named when Discord's refusal does not say which.
EMBED_POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links")

StoreMessageId = Callable[[int], Awaitable[None]]
ChannelGone = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TrackedPost:
    """One kept-up-to-date message and who hears about it when it cannot be shown.

    `key` is unique among the bot's tracked posts (`<feature>:<row id>`); `subject` completes
    "I can't show …" in the admins' notice; `store` saves a re-posted message's id on the owner's
    row; `fallback_user_id` is DM'd when the guild has no usable admin channel. An owner whose row
    ends with its channel passes `on_channel_gone` and tells the admins its own way; otherwise a
    deleted channel is reported like a refused one."""

    key: str
    guild_id: int
    channel_id: int
    message_id: int | None
    subject: str
    store: StoreMessageId
    fallback_user_id: int | None = None
    on_channel_gone: ChannelGone | None = None
    permissions: tuple[str, ...] = EMBED_POST_PERMISSIONS


class TrackedPosts:
    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._reported: set[str] = set()

    @property
    def reported(self) -> frozenset[str]:
        """Keys of the posts whose trouble the admins were told of and that have not recovered."""
        return frozenset(self._reported)

    def forget(self, key: str) -> None:
        """The owner is done with the post (its roll call closed, its event ended)."""
        self._reported.discard(key)

    async def refresh(
        self, post: TrackedPost, *, embed: discord.Embed, view: discord.ui.View | None = MISSING
    ) -> Result:
        """Show `embed` in the post, posting it again if it was deleted (or never posted). `view`
        replaces the post's components (None removes them); left out, they stay."""
        shown = await self._delivery.refresh_post(post.channel_id, post.message_id, embed=embed, view=view)
        if shown.delivered:
            if shown.message_id is not None and shown.message_id != post.message_id:
                await post.store(shown.message_id)
            if post.key in self._reported:
                self._reported.discard(post.key)
                log.info("Tracked post %s shows again in channel %s", post.key, post.channel_id)
            return shown
        if shown.outcome is Outcome.GONE and post.on_channel_gone is not None:
            log.warning("Channel %s of tracked post %s is gone", post.channel_id, post.key)
            self._reported.discard(post.key)
            await post.on_channel_gone()
            return shown
        if shown.outcome in (Outcome.MISSING_PERMISSION, Outcome.GONE):
            log.warning("Cannot show tracked post %s in channel %s: %s", post.key, post.channel_id, shown.explain())
            await self._report_once(post, shown)
            return shown
        # A network failure or another refusal: the owner's next refresh tries again.
        log.warning("Tracked post %s not updated: %s", post.key, shown.explain())
        return shown

    async def finish(self, post: TrackedPost, *, embed: discord.Embed) -> Result | None:
        """A last edit (a closed roll call's summary) that never re-posts; the post is forgotten.
        None when the post was never posted."""
        self.forget(post.key)
        if post.message_id is None:
            return None
        final = await self._delivery.edit(post.channel_id, post.message_id, embed=embed)
        if not final.delivered:
            log.info("Could not give tracked post %s its last edit: %s", post.key, final.explain())
        return final

    async def _report_once(self, post: TrackedPost, shown: Result) -> None:
        if post.key in self._reported:
            return
        self._reported.add(post.key)
        where = f"<#{post.channel_id}>"
        if shown.outcome is Outcome.GONE:
            text = f"⚠️ I can't show {post.subject}: its channel {where} was deleted."
        else:
            names = ", ".join(permission_label(name) for name in shown.missing or post.permissions)
            text = f"⚠️ I can't show {post.subject} in {where}: give my role {names} there."
        await self._delivery.notify_admins(post.guild_id, text, fallback_user_id=post.fallback_user_id)
