"""Domain errors. Each carries the sentence the member sees; the tree's handler sends it."""

from __future__ import annotations

from discord import app_commands


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
