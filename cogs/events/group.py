"""The one `/event` group. Its own module so that every mixin of the Events cog can put its
subcommands on it with `@event_group.command(...)` without importing the cog."""

from __future__ import annotations

from discord import app_commands

# No group-wide audience or default permissions: `/event attend` is for everyone, so each
# organizer subcommand carries `extras={"audience": AUDIENCE_ORGANIZER}` and `@staff_only()`.
event_group = app_commands.Group(
    name="event", description="Events with RSVP buttons, a waitlist and attendance", guild_only=True
)
