"""Members' names for files and reports, read from the guild's member cache."""

from __future__ import annotations

from collections.abc import Callable

import discord

NameOf = Callable[[int], str | None]


def display_names(guild: discord.Guild | None) -> NameOf:
    """The display name of a member by id, or None for someone not (or no longer) in the guild."""

    def name_of(user_id: int) -> str | None:
        member = guild.get_member(user_id) if guild is not None else None
        return member.display_name if member is not None else None

    return name_of
