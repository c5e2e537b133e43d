"""Organizer commands on one event: /event info, attendees, edit, cancel, rsvp (filled by MANAGE)."""

from __future__ import annotations


class EventManageCommands:
    """Mixin of the Events cog (see cogs/events/__init__.py)."""
