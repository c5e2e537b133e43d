"""Verification on join (SPEC section 6)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.mailer import Mailer, SmtpConfig
from cogs.verification.cog import Verification
from cogs.verification.gate import Gatekeeper
from cogs.verification.roster_import import RosterImport

if TYPE_CHECKING:
    from bot.core import Rollcall

__all__ = ["Verification", "setup"]


async def setup(bot: Rollcall) -> None:
    gate = Gatekeeper(bot, bot.verification, bot.guild_configs, bot.delivery, bot.tracked_posts, bot.jobs, bot.clock)
    smtp = SmtpConfig.from_settings(bot.settings)
    importer = RosterImport(bot.verification, bot.delivery, bot.clock, Mailer(smtp) if smtp else None)
    await bot.add_cog(Verification(gate=gate, importer=importer, configs=bot.guild_configs, clock=bot.clock))
