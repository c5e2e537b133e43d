"""What verification looks like in Discord: the Verify button (in the join DM and on the
verification channel's panel), the modal it opens, and the pages of `/verify status`."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.checks import ensure_staff
from bot.pages import PageButton
from bot.tree import GuardedItem, RollcallModal, RollcallView
from storage.verification import Deadline
from utils.roster import MAX_EMAIL
from utils.timefmt import discord_timestamp

if TYPE_CHECKING:
    from bot.types import Interaction
    from cogs.verification.gate import Gatekeeper

STATUS_PAGE_SIZE = 15
TOKEN_PLACEHOLDER = "ABCD-EFGH-JKMN-PQRS"
# Room for a pasted token with spaces or a stray character around it.
TOKEN_INPUT_MAX = 40
MODAL_TITLE_LIMIT = 45
MODAL_TIMEOUT_SECONDS = 15 * 60


def _gatekeeper(interaction: Interaction) -> Gatekeeper:
    # A DynamicItem is built by discord.py, not by the cog, so the service comes from the client.
    cog = interaction.client.get_cog("Verification")
    if cog is None:
        raise RuntimeError("the Verification cog is not loaded")
    return cog.gate  # type: ignore[attr-defined]


class VerifyButton(
    GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:verify:start:(?P<guild_id>\d+)"
):
    """Opens the verification modal. The guild is in the id because the same button sits in a
    DM, where the interaction names no server."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Verify",
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"rollcall:verify:start:{guild_id}",
            )
        )
        self.guild_id = guild_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> VerifyButton:
        return cls(int(match["guild_id"]))

    async def run(self, interaction: Interaction) -> None:
        await _gatekeeper(interaction).open_modal(interaction, self.guild_id)


def verify_view(guild_id: int) -> RollcallView:
    view = RollcallView(timeout=None)
    view.add_item(VerifyButton(guild_id))
    return view


class VerifyModal(RollcallModal):
    email: discord.ui.TextInput[VerifyModal] = discord.ui.TextInput(
        label="E-mail address",
        placeholder="the address the roster has for you",
        max_length=MAX_EMAIL,
        custom_id="rollcall:verify:email",
    )
    token: discord.ui.TextInput[VerifyModal] = discord.ui.TextInput(
        label="Token",
        placeholder=TOKEN_PLACEHOLDER,
        max_length=TOKEN_INPUT_MAX,
        custom_id="rollcall:verify:token",
    )

    def __init__(self, guild_id: int, guild_name: str, opened_by: int) -> None:
        title = f"Verify for {guild_name}"
        if len(title) > MODAL_TITLE_LIMIT:
            title = "Verify"
        # The opening interaction's id keeps two forms a member opened (DM and panel) apart.
        custom_id = f"rollcall:verify:modal:{guild_id}:{opened_by}"
        super().__init__(title=title, timeout=MODAL_TIMEOUT_SECONDS, custom_id=custom_id)
        self.guild_id = guild_id

    async def on_submit(self, interaction: Interaction) -> None:
        await _gatekeeper(interaction).submit(interaction, self.guild_id, self.email.value, self.token.value)


def prompt_text(guild: discord.Guild, due_at: datetime) -> str:
    return (
        f"👋 Welcome to **{guild.name}**! Before you can take part, please verify that you are on the roster: "
        "press **Verify** below and enter your e-mail address and the token you were sent "
        f"(it looks like `{TOKEN_PLACEHOLDER}`).\n"
        f"Please verify {discord_timestamp(due_at, 'R')}: members who have not verified by then are removed "
        "from the server (you can rejoin and verify afterwards)."
    )


def panel_embed(guild: discord.Guild | None) -> discord.Embed:
    name = guild.name if guild else "this server"
    return discord.Embed(
        title=f"Verify to join {name}",
        description=(
            "New here? Press **Verify** and enter your e-mail address and the token you were sent "
            f"(it looks like `{TOKEN_PLACEHOLDER}`). You can also type `/verify me`.\n"
            "Everything you type here is seen only by you and the bot."
        ),
        colour=discord.Colour.green(),
    )


def status_embed(deadlines: list[Deadline], *, page: int, pages: int, total: int) -> discord.Embed:
    embed = discord.Embed(title="Members who have not verified yet", colour=discord.Colour.blurple())
    if not deadlines:
        embed.description = "Nobody is waiting to verify."
        return embed
    lines = []
    for deadline in deadlines:
        state = " (being removed)" if deadline.claimed_until is not None else ""
        lines.append(f"<@{deadline.user_id}> · removed {discord_timestamp(deadline.due_at, 'R')}{state}")
    embed.description = "\n".join(lines)
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} waiting")
    return embed


class StatusPageButton(
    PageButton, GuardedItem, discord.ui.DynamicItem[discord.ui.Button], template=r"rollcall:verify:status:(?P<page>\d+)"
):
    """Previous/next page of `/verify status`; the page is in the id, so it survives restarts."""

    custom_id_prefix = "rollcall:verify:status"

    async def run(self, interaction: Interaction) -> None:
        await ensure_staff(interaction, organizers_allowed=False)
        embed, view = await render_status_page(_gatekeeper(interaction), interaction.guild_id or 0, self.page)
        await interaction.response.edit_message(embed=embed, view=view)


async def render_status_page(gate: Gatekeeper, guild_id: int, page: int) -> tuple[discord.Embed, RollcallView]:
    total = await gate.repo.count_deadlines(guild_id)
    pages = max(1, -(-total // STATUS_PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    deadlines = await gate.repo.list_deadlines(guild_id, limit=STATUS_PAGE_SIZE, offset=page * STATUS_PAGE_SIZE)
    view = RollcallView(timeout=None)
    view.add_item(StatusPageButton(max(page - 1, 0), label="◀ Previous", disabled=page == 0))
    view.add_item(StatusPageButton(page + 1, label="Next ▶", disabled=page >= pages - 1))
    return status_embed(deadlines, page=page, pages=pages, total=total), view
