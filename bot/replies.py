"""One way to answer an interaction, whether or not it was already answered or deferred."""

from __future__ import annotations

from collections.abc import Sequence

import discord
from discord.utils import MISSING

# Discord refuses a message past these (400 / 50035), and the member then sees nothing at all.
MESSAGE_CONTENT_LIMIT = 2_000
EMBED_FIELD_VALUE_LIMIT = 1_024
EMBED_FIELDS_LIMIT = 25
EMBED_TOTAL_LIMIT = 6_000


async def send_reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    files: Sequence[discord.File] = (),
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
) -> None:
    kwargs: dict = {
        "content": content,
        "embed": embed or MISSING,
        "files": list(files) or MISSING,
        "view": view or MISSING,
        "ephemeral": ephemeral,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
