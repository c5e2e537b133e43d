"""The persistent previous / next buttons of paginated lists (`/attendance sessions`,
`/preset list`, `/verify status`)."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

import discord


class PageButton:
    """Mixin for a DynamicItem page button whose page is the last part of its custom id, so it
    works after a restart with nothing in memory. A subclass also inherits GuardedItem and
    `discord.ui.DynamicItem[discord.ui.Button]` with `template=rf"{prefix}:(?P<page>\\d+)"`, sets
    `custom_id_prefix` to the same prefix, and renders its page in `run`."""

    custom_id_prefix: ClassVar[str]

    def __init__(self, page: int, *, label: str, disabled: bool = False) -> None:
        button = discord.ui.Button(
            label=label,
            style=discord.ButtonStyle.secondary,
            custom_id=f"{self.custom_id_prefix}:{page}",
            disabled=disabled,
        )
        super().__init__(button)  # type: ignore[call-arg]
        self.page = page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Button[Any], match: re.Match[str], /
    ) -> Self:
        return cls(int(match["page"]), label=item.label or "Page")
