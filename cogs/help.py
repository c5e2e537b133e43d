"""/help: the commands this member may use, grouped by feature, one line each."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_EVERYONE, command_audience, may_use
from bot.replies import send_reply

if TYPE_CHECKING:
    from bot.core import Rollcall
    from bot.types import Interaction
    from storage.guild_config import GuildConfigRepository


def walk_leaf_commands(tree: app_commands.CommandTree) -> list[app_commands.Command]:
    leaves: list[app_commands.Command] = []
    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        if isinstance(command, app_commands.Group):
            leaves.extend(c for c in command.walk_commands() if isinstance(c, app_commands.Command))
        else:
            leaves.append(command)
    return leaves


class Help(commands.Cog):
    def __init__(self, bot: Rollcall, *, configs: GuildConfigRepository) -> None:
        self.bot = bot
        self.configs = configs

    @app_commands.command(name="help", description="List the Rollcall commands you can use here")
    async def help(self, interaction: Interaction) -> None:
        member = interaction.user
        if interaction.guild_id is None or not isinstance(member, discord.Member):
            await self.help_outside_a_server(interaction)
            return
        config = await self.configs.get(interaction.guild_id)
        groups: dict[str, list[str]] = {}
        for command in walk_leaf_commands(self.bot.tree):
            if not may_use(command_audience(command), member, interaction.permissions, config):
                continue
            root = command.root_parent.name if command.root_parent else "general"
            groups.setdefault(root, []).append(f"`/{command.qualified_name}` — {command.description}")
        embed = discord.Embed(title="Rollcall commands you can use", colour=discord.Colour.blurple())
        for name in sorted(groups):
            embed.add_field(name=name, value="\n".join(sorted(groups[name])), inline=False)
        await send_reply(interaction, embed=embed)

    async def help_outside_a_server(self, interaction: Interaction) -> None:
        """In a DM there is no server whose roles and settings decide what a member may use, so
        list what everyone may use and send them to the server for the rest."""
        lines = sorted(
            f"`/{command.qualified_name}` — {command.description}"
            for command in walk_leaf_commands(self.bot.tree)
            if command_audience(command) == AUDIENCE_EVERYONE
        )
        embed = discord.Embed(
            title="Rollcall commands",
            description=(
                "Rollcall works inside a server. There, everyone can use the commands below; run `/help` in the "
                "server to also see the staff commands your roles allow."
            ),
            colour=discord.Colour.blurple(),
        )
        embed.add_field(name="everyone", value="\n".join(lines), inline=False)
        await send_reply(interaction, embed=embed)


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(Help(bot, configs=bot.guild_configs))
