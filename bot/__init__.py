"""Bot construction. `create_bot` is used by main.py, the tests and the benches alike."""

from __future__ import annotations

from bot.clock import Clock
from bot.core import Rollcall
from config import Settings


def create_bot(settings: Settings, *, clock: Clock | None = None) -> Rollcall:
    """A ready-to-start bot; with an injected clock, time only moves through `run_due_jobs()`."""
    return Rollcall(settings, clock=clock)


__all__ = ["Rollcall", "create_bot"]
