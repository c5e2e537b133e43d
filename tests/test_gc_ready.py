"""Garbage-collector set-up at READY: the heap a big server brings is frozen, thresholds raised."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from bot.heap import GC_THRESHOLDS, freeze_heap_at_ready
from tests.harness import DEFAULT_USERS, UserSpec, World, boot_bot, shutdown_bot

HALL_SIZE = 200
HALL_ID_BASE = 1_300_000_000_000_000_000


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.fixture
def world(restored_gc: None) -> World:
    """A server whose members arrive as production's do: in GUILD_CREATE, after `setup_hook`.
    Asking for `restored_gc` here puts its snapshot before the boot that changes the collector."""
    hall = [UserSpec(f"hall{index:03d}", HALL_ID_BASE + index, roles=("Student",)) for index in range(HALL_SIZE)]
    return World(users=[*DEFAULT_USERS, *hall])


async def test_members_that_arrive_with_the_guild_are_frozen_at_ready(settings, discord_side, world, clock) -> None:
    bot, h = await boot_bot(settings, discord_side, world, clock, prepare=freeze_heap_at_ready)
    try:
        # Frozen objects are out of every generation the collector scans.
        scanned = {id(obj) for obj in gc.get_objects()}
        assert id(h.member("hall000")) not in scanned
        assert id(h.guild) not in scanned
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        await shutdown_bot(bot)
