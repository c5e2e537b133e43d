"""Domain errors. Each carries the sentence the member sees; the tree's handler sends it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import discord
from discord import app_commands

# Where Discord's own settings screens name a permission differently from the API.
PERMISSION_LABELS = {
    "manage_guild": "Manage Server",
    "moderate_members": "Timeout Members",
    "send_messages_in_threads": "Send Messages in Threads",
    "send_tts_messages": "Send Text-to-Speech Messages",
}


def permission_label(name: str) -> str:
    """A permission as an admin finds it in Discord's settings (`manage_guild` → Manage Server)."""
    return PERMISSION_LABELS.get(name, name.replace("_", " ").title())


def words_list(words: Sequence[str], *, conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def permissions_in_words(names: Iterable[str], *, conjunction: str = "and") -> str:
    return words_list([permission_label(name) for name in names], conjunction=conjunction)


def missing_bot_permission_message(permissions: Sequence[str]) -> str:
    if len(permissions) == 1:
        missing = f"I am missing a permission here: {permission_label(permissions[0])}."
    else:
        missing = f"I am missing permissions here: {permissions_in_words(permissions)}."
    return f"{missing} Ask an admin to grant it to my role in this channel's permissions."


class RollcallError(app_commands.AppCommandError):
    """An expected failure with a user-facing message (answered ephemerally)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(RollcallError):
    """The member may not use this command here."""


class InvalidInput(RollcallError):
    """The input was refused; the message says what good input looks like."""


class NotFound(RollcallError):
    """A referenced record (session, event, ...) does not exist in this server."""


class MissingBotPermission(RollcallError):
    """Discord refused an action (403 / 50013) and the caller knows which permission it needed:
    raise this `from` the Forbidden so the member reads the permission's name."""

    def __init__(self, *permissions: str) -> None:
        self.permissions = permissions
        super().__init__(missing_bot_permission_message(permissions))


class DmsClosed(RollcallError):
    """Discord refused a DM (403 / 50007). Name the member when it was not the one who asked."""

    def __init__(self, member: discord.abc.User | None = None) -> None:
        self.member = member
        if member is None:
            message = (
                "I can't DM you: your DMs are closed for this server. Allow direct messages from this server's "
                "members (click the server's name → Privacy Settings), then try again."
            )
        else:
            message = f"I can't DM {member.mention}: their DMs are closed for this server."
        super().__init__(message)
