"""The garbage collector's set-up for a bot process, installed by the process's entry point
(`main.run`, and the benches that stand in for it): it is a property of the process, which in
production holds one bot, not of each bot object a test builds."""

from __future__ import annotations

import gc

import discord

# Each /here in flight keeps ~35 tracked objects alive until it is answered, so a burst grows the
# heap faster than CPython's default (700, 10, 10) expects: a 20,000-member hall then paid 5 full
# collections (1.4 s, up to 400 ms each) during the burst. With these it pays none, and young
# collections stay under ~5 ms (bench/here_burst.py).
GC_THRESHOLDS = (2_000, 5, 100)


def freeze_heap_at_ready(client: discord.Client) -> None:
    """At every READY: collect, then freeze the heap and raise the thresholds.

    The guilds, channels and members cached by READY live as long as the connection (a hall of
    20,000 members is most of the heap). Frozen, they are no longer rescanned by every full
    collection during a burst. A new READY replaces the cache: unfreeze first so the old one can
    be collected."""

    async def freeze_heap() -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    client.add_listener(freeze_heap, "on_ready")
