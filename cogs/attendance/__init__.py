"""Live roll call (SPEC section 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.attendance.cog import Attendance

if TYPE_CHECKING:
    from bot.core import Rollcall


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(
        Attendance(
            bot,
            sessions=bot.attendance,
            configs=bot.guild_configs,
            delivery=bot.delivery,
            posts=bot.tracked_posts,
            jobs=bot.jobs,
            clock=bot.clock,
        )
    )
