"""The command tree subclass holding the one error handler for commands, views and modals."""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.errors import RollcallError
from bot.replies import MESSAGE_CONTENT_LIMIT, send_reply
from utils.text import echo, shorten

log = logging.getLogger(__name__)


def _unwrap(error: BaseException) -> BaseException:
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


def describe_failure(error: BaseException) -> str | None:
    """The message for failures we expect, or None when the error is a bug."""
    error = _unwrap(error)
    if isinstance(error, RollcallError):
        return error.message
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't understand `{echo(error.value)}` for that option. Pick one from the list Discord offers."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.BotMissingPermissions):
        names = ", ".join(name.replace("_", " ").title() for name in error.missing_permissions)
        return f"I'm missing permissions here: {names}. Ask an admin to grant them."
    if isinstance(error, discord.Forbidden):
        return "Discord refused me permission for that (missing access). Ask an admin to check my role's permissions."
    return None


async def report_interaction_error(interaction: discord.Interaction, error: BaseException, *, where: str) -> None:
    message = describe_failure(error)
    if message is None:
        error_id = secrets.token_hex(4)
        original = _unwrap(error)
        log.error(
            "Unexpected error %s in %s (guild %s, channel %s, user %s)",
            error_id,
            where,
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id if interaction.user else None,
            exc_info=(type(original), original, original.__traceback__),
        )
        message = (
            f"Sorry, something went wrong on my side. Error id: `{error_id}` (an admin can find it in the bot's log)."
        )
    try:
        # A refusal that Discord itself refused would leave the member with no answer at all.
        await send_reply(interaction, shorten(message, MESSAGE_CONTENT_LIMIT), ephemeral=True)
    except discord.HTTPException:
        log.warning("Could not deliver an error reply for interaction %s", interaction.id)


class RollcallTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        command = interaction.command
        where = f"/{command.qualified_name}" if command else "an interaction"
        await report_interaction_error(interaction, error, where=where)


class RollcallView(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item) -> None:
        await report_interaction_error(interaction, error, where=f"view item {item!r}")


class RollcallModal(discord.ui.Modal):
    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_interaction_error(interaction, error, where=f"modal {self.title!r}")


class GuardedItem:
    """Mixin for DynamicItems: discord.py drops exceptions from their checks silently and only
    logs those from callbacks, so the work goes in `run` and failures reach the member."""

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self.run(interaction)
        except Exception as error:
            custom_id = getattr(getattr(self, "item", None), "custom_id", "?")
            await report_interaction_error(interaction, error, where=f"component {custom_id}")
