"""Exports and reports (SPEC section 7)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.reports.cog import Reports

if TYPE_CHECKING:
    from bot.core import Rollcall


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(
        Reports(
            bot,
            reports=bot.reports,
            events=bot.events,
            event_slots=bot.event_slots,
            configs=bot.guild_configs,
            clock=bot.clock,
        )
    )
