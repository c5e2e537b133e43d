"""Type names shared by the bot's modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import discord

if TYPE_CHECKING:
    from bot.core import Rollcall

# An interaction whose `client` is Rollcall, so `interaction.client.attendance` is typed. The
# name is a string here because bot.core imports the modules that use this alias.
Interaction: TypeAlias = discord.Interaction["Rollcall"]
