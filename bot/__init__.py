"""Bot construction. `create_bot` is used by main.py, the tests and the benches alike."""

from __future__ import annotations

from bot.clock import Clock
from bot.core import Rollcall, ShardedRollcall
from config import Settings


def create_bot(settings: Settings, *, clock: Clock | None = None) -> Rollcall:
    """A ready-to-start bot; with an injected clock, time only moves through `run_due_jobs()`.
    With `SHARD_COUNT` above 1 it is an `AutoShardedBot` running the shards in `SHARD_IDS`."""
    if settings.shard_count > 1:
        return ShardedRollcall(settings, clock=clock)
    return Rollcall(settings, clock=clock)


__all__ = ["Rollcall", "ShardedRollcall", "create_bot"]
