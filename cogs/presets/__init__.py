"""Party presets (SPEC section 5): reusable slot templates. The commands are in
cogs/presets/cog.py; an event copies a preset's slots at `/event create preset:` and its slot
sign-up lives with the events (cogs/events/slots.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.presets.cog import Presets

if TYPE_CHECKING:
    from bot.core import Rollcall


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(Presets(bot, presets=bot.presets, clock=bot.clock))
