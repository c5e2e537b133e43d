"""The command tree subclass holding the one error handler for commands, views and modals.

Everything a member can trigger ends in `report_interaction_error`: the tree's `on_error`, the
`on_error` of every view and modal base below, and `GuardedItem` for persistent buttons (whose
exceptions discord.py would otherwise only log). tests/test_error_structure.py holds every UI
class under cogs/ to that."""

from __future__ import annotations

import logging
import math
import secrets
from typing import Any

import discord
from discord import app_commands

from bot.checks import POSTING_PERMISSIONS
from bot.errors import DmsClosed, RollcallError, missing_bot_permission_message, permissions_in_words
from bot.replies import MESSAGE_CONTENT_LIMIT, send_reply
from utils.text import echo, shorten

log = logging.getLogger(__name__)

# Discord's JSON error codes (opcodes-and-status-codes): what a refusal means decides the answer.
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
DMS_CLOSED_CODES = frozenset({50007, 50278})  # cannot DM this user / shares no server with the bot
# The interaction's token no longer works: past 3 s without an answer (10062), a follow-up to an
# interaction never acknowledged (10015), or past its 15 minutes (50027). Nothing can reach the member.
EXPIRED_INTERACTION_CODES = frozenset({10062, 10015, 50027})

# Discord still offers a command as it was before a deploy until its copy of the command list
# catches up with the sync, so a member can run one this build no longer knows in that shape.
STALE_COMMAND_ERRORS = (app_commands.CommandNotFound, app_commands.CommandSignatureMismatch)
STALE_COMMAND_MESSAGE = "This command was just updated; try again in a minute."


def _unwrap(error: BaseException) -> BaseException:
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


def _role_in_words(role: int | str) -> str:
    return f"<@&{role}>" if isinstance(role, int) else f"**{role}**"


def describe_forbidden(error: discord.Forbidden) -> str:
    """Discord's refusal told by its code. A caller that knows which permission was missing
    raises `bot.errors.MissingBotPermission` (or `DmsClosed` for another member) from it instead."""
    if error.code in DMS_CLOSED_CODES:
        return DmsClosed().message
    if error.code in (MISSING_PERMISSIONS, MISSING_ACCESS):
        return (
            "I lack a permission in this channel for that: most likely "
            f"{permissions_in_words(POSTING_PERMISSIONS, conjunction='or')}. "
            "Ask an admin to check my role's permissions here."
        )
    return "Discord refused me permission for that (missing access). Ask an admin to check my role's permissions."


def describe_failure(error: BaseException) -> str | None:
    """The message for failures we expect, or None when the error is a bug."""
    error = _unwrap(error)
    if isinstance(error, RollcallError):
        return error.message
    if isinstance(error, app_commands.TransformerError):
        if error.__cause__ is not None:
            return None  # one of our own transformers failed, not the member's input
        return f"I couldn't understand `{echo(error.value)}` for that option. Pick one from the list Discord offers."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only in a server."
    if isinstance(error, app_commands.MissingPermissions):
        noun = "permission" if len(error.missing_permissions) == 1 else "permissions"
        return f"You need the {permissions_in_words(error.missing_permissions)} {noun} to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        return missing_bot_permission_message(error.missing_permissions)
    if isinstance(error, app_commands.MissingRole):
        return f"You need the {_role_in_words(error.missing_role)} role to use this command."
    if isinstance(error, app_commands.MissingAnyRole):
        roles = ", ".join(_role_in_words(role) for role in error.missing_roles)
        return f"You need one of these roles to use this command: {roles}."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"This command is cooling down: try again in {max(math.ceil(error.retry_after), 1)} s."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, discord.Forbidden):
        return describe_forbidden(error)
    return None


def _is_expired(error: BaseException) -> bool:
    return isinstance(error, discord.HTTPException) and error.code in EXPIRED_INTERACTION_CODES


def _user_id(interaction: discord.Interaction) -> int | None:
    return interaction.user.id if interaction.user else None


async def report_interaction_error(interaction: discord.Interaction, error: BaseException, *, where: str) -> None:
    """The one error path: answer the member ephemerally and log what an admin needs."""
    original = _unwrap(error)
    if _is_expired(original):
        log.warning(
            "Too late to answer %s (interaction %s, guild %s, user %s): Discord answered %s",
            where,
            interaction.id,
            interaction.guild_id,
            _user_id(interaction),
            original,
        )
        return
    if isinstance(original, STALE_COMMAND_ERRORS):
        # Not a bug: the member's client still shows the command as it was before the deploy.
        log.warning(
            "Stale command %s (guild %s, user %s): Discord's command list predates this build until the sync lands",
            where,
            interaction.guild_id,
            _user_id(interaction),
        )
        message: str | None = STALE_COMMAND_MESSAGE
    else:
        message = describe_failure(original)
    if message is None:
        error_id = secrets.token_hex(4)
        log.error(
            "Unexpected error %s in %s (guild %s, channel %s, user %s)",
            error_id,
            where,
            interaction.guild_id,
            interaction.channel_id,
            _user_id(interaction),
            exc_info=(type(original), original, original.__traceback__),
        )
        message = (
            f"Sorry, something went wrong on my side. Error id: `{error_id}` (an admin can find it in the bot's log)."
        )
    await _answer(interaction, message)


async def _answer(interaction: discord.Interaction, message: str) -> None:
    try:
        if interaction.type is discord.InteractionType.autocomplete:
            # An autocomplete can only be answered with choices; offering none is the honest answer.
            if not interaction.response.is_done():
                await interaction.response.autocomplete([])
            return
        await send_reply(interaction, shorten(message, MESSAGE_CONTENT_LIMIT), ephemeral=True)
    except discord.HTTPException as failure:
        # A refusal that Discord itself refused would leave the member with no answer at all, and
        # raising again would only reach discord.py's own logger.
        reason = "it expired" if _is_expired(failure) else "Discord refused it"
        log.warning("Could not deliver the error reply for interaction %s: %s (%s)", interaction.id, reason, failure)


def _command_label(interaction: discord.Interaction, error: BaseException) -> str:
    command = interaction.command
    if command is not None:
        name = command.qualified_name
        return f"/{name}" if isinstance(command, app_commands.Command) else f"menu {name!r}"
    if isinstance(error, app_commands.CommandNotFound):
        name = " ".join([*error.parents, error.name])
        return f"/{name}" if error.type is discord.AppCommandType.chat_input else f"menu {name!r}"
    if isinstance(error, app_commands.CommandSignatureMismatch):
        return f"/{error.command.qualified_name}"
    return "an interaction"


class RollcallTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_interaction_error(interaction, error, where=_command_label(interaction, error))


class RollcallView(discord.ui.View):
    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await report_interaction_error(interaction, error, where=f"view item {item!r}")


class RollcallLayoutView(discord.ui.LayoutView):
    async def on_error(self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]) -> None:
        await report_interaction_error(interaction, error, where=f"layout item {item!r}")


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
