"""Which guilds this process serves when the bot runs as several shard processes.

Discord routes a guild to shard `(guild_id >> 22) % shard_count`; a process started with
`SHARD_IDS` receives the events of those shards only, so it rebuilds the jobs of their guilds
only. `owns_guild` is the one place that rule is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from config import Settings

# Direct messages and rows that belong to no guild travel on shard 0 (Discord's rule for DMs).
DM_SHARD = 0


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends `guild_id`'s events on."""
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True, slots=True)
class ShardSet:
    """The shards this process runs, out of `count`."""

    count: int = 1
    ids: tuple[int, ...] = (0,)

    @classmethod
    def every(cls, count: int = 1) -> ShardSet:
        return cls(count, tuple(range(count)))

    @classmethod
    def from_settings(cls, settings: Settings) -> ShardSet:
        if settings.shard_ids is None:
            return cls.every(settings.shard_count)
        return cls(settings.shard_count, settings.shard_ids)

    @property
    def sharded(self) -> bool:
        return self.count > 1

    @property
    def holds_first_shard(self) -> bool:
        """The process holding shard 0 does what must happen once per application (the command sync)."""
        return DM_SHARD in self.ids

    def owns_guild(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.holds_first_shard
        return shard_of(guild_id, self.count) in self.ids
