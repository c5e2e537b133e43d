"""Live roll call (SPEC section 3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.attendance.cog import Attendance
from cogs.attendance.live import RollCalls
from cogs.attendance.presence import PresenceWatch
from cogs.reports.history import MemberHistory

if TYPE_CHECKING:
    from bot.core import Rollcall


async def setup(bot: Rollcall) -> None:
    presence = PresenceWatch(bot, bot.voice_presence, bot.clock)
    roll_calls = RollCalls(
        bot, bot.attendance, bot.guild_configs, bot.delivery, bot.tracked_posts, bot.jobs, bot.clock, presence
    )
    await bot.add_cog(
        Attendance(
            bot,
            roll_calls=roll_calls,
            sessions=bot.attendance,
            events=bot.events,
            configs=bot.guild_configs,
            delivery=bot.delivery,
            clock=bot.clock,
            history=MemberHistory(bot.reports, bot.guild_configs, bot.clock),
        )
    )
