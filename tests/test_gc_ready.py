"""Garbage-collector set-up at READY: the heap a big server brings is frozen, thresholds raised."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from bot.core import GC_THRESHOLDS
from tests.harness import Harness, private

MEMBERS_JOINING_BEFORE_READY = 200


@pytest.fixture
def restored_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


async def fire_ready(h: Harness) -> None:
    """What discord.py does once every guild has arrived: the ready handler, then `on_ready`."""
    before = asyncio.all_tasks()
    private.dispatch_ready(h.bot)
    handlers = [task for task in asyncio.all_tasks() - before if task.get_name() == "discord.py: on_ready"]
    assert handlers, "the bot has no on_ready"
    await asyncio.wait_for(asyncio.gather(*handlers), 10)


async def test_members_cached_after_setup_hook_are_frozen_at_ready(h: Harness, restored_gc: None) -> None:
    gc.unfreeze()
    for index in range(MEMBERS_JOINING_BEFORE_READY):
        h.add_member(f"hall{index:03d}", roles=("Student",))
    member = h.member("hall000")
    assert id(member) in {id(obj) for obj in gc.get_objects()}
    await fire_ready(h)
    # Frozen objects are out of every generation the collector scans.
    scanned = {id(obj) for obj in gc.get_objects()}
    assert id(member) not in scanned
    assert id(h.guild) not in scanned
    assert gc.get_threshold() == GC_THRESHOLDS
