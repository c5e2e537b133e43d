"""One way to answer an interaction, whether or not it was already answered or deferred."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence

import discord
from discord.utils import MISSING

from utils.attachments import Upload, batches, fit_attachments
from utils.text import shorten

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


async def send_files(
    interaction: discord.Interaction,
    content: str,
    files: Sequence[Upload],
    *,
    embed: discord.Embed | None = None,
    ephemeral: bool = True,
) -> int:
    """Answer with `files`, fitted to the interaction's upload limit (zipped, then split) and spread
    over as many messages as Discord needs; each later message says which part it is. Returns the
    number of messages sent."""
    # Zipping a large export is CPU work; the event loop keeps serving everyone else meanwhile.
    fitted = await asyncio.to_thread(fit_attachments, files, interaction.filesize_limit)
    groups = batches(fitted, interaction.filesize_limit) or [[]]
    if any(name.endswith(".zip") or ".zip." in name for name, _ in fitted):
        content += "\n📦 Too big for one Discord attachment: zipped" + (
            f", in {len(fitted)} parts (join them with `cat` or 7-Zip)." if len(fitted) > len(files) else "."
        )
    total = len(groups)
    for index, group in enumerate(groups):
        text = content if index == 0 else f"Part {index + 1} of {total}"
        if index == 0 and total > 1:
            text += f"\nSending {total} messages…"
        await send_reply(
            interaction,
            shorten(text, MESSAGE_CONTENT_LIMIT),
            embed=embed if index == 0 else None,
            files=[discord.File(io.BytesIO(data), filename=name) for name, data in group],
            ephemeral=ephemeral,
        )
    return total
