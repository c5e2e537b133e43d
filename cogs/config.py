"""/config: per-guild settings (admins with Manage Server only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import (
    AUDIENCE_ADMIN,
    ensure_assignable,
    ensure_can_post,
    ensure_in_range,
    ensure_private_admin_channel,
    ensure_role_sees_admin_channel,
    staff_autocomplete,
    staff_only,
)
from bot.errors import InvalidInput
from bot.replies import send_reply
from cogs.events.scheduled import scheduled_events_line
from storage.guild_config import GuildConfig, GuildConfigRepository
from utils.limits import CODE_INTERVAL, CODE_LENGTH, GRACE, LATE_AFTER, VERIFICATION_TIMEOUT, Limit
from utils.settings_text import parse_reminder_offsets
from utils.text import echo
from utils.timezones import is_timezone, search_timezones

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.core import Rollcall
    from bot.types import Interaction


def _channel_text(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else "not set"


def _role_text(role_id: int | None) -> str:
    return f"<@&{role_id}>" if role_id else "not set"


def config_embed(config: GuildConfig) -> discord.Embed:
    embed = discord.Embed(title="Rollcall settings", colour=discord.Colour.blurple())
    embed.add_field(
        name="Channels",
        value=(
            f"Admin: {_channel_text(config.admin_channel_id)}\n"
            f"Attendance: {_channel_text(config.attendance_channel_id)}\n"
            f"Verification: {_channel_text(config.verification_channel_id)}\n"
            f"Log: {_channel_text(config.log_channel_id)}"
        ),
        inline=False,
    )
    embed.add_field(
        name="Roles",
        value=f"Organizer: {_role_text(config.organizer_role_id)}\nMember: {_role_text(config.member_role_id)}",
        inline=False,
    )
    embed.add_field(name="Time zone", value=config.timezone)
    embed.add_field(
        name="Roll call",
        value=(
            f"Code every {config.code_interval_seconds} s, {config.code_length} characters\n"
            f"Previous code accepted for {config.grace_seconds} s\n"
            f"Late after {config.late_after_minutes} min"
        ),
        inline=False,
    )
    embed.add_field(name="Verification timeout", value=f"{config.verification_timeout_minutes} min")
    embed.add_field(
        name="Reminders", value=", ".join(f"{minutes} min" for minutes in config.reminder_offsets) + " before start"
    )
    embed.add_field(
        name="Missed-attendance notice",
        value="On: Going members who did not attend get a DM" if config.missed_attendance_notice else "Off",
    )
    return embed


class Config(commands.Cog):
    config_group = app_commands.Group(
        name="config",
        description="Show or change Rollcall's settings for this server",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
        extras={"audience": AUDIENCE_ADMIN},
    )

    def __init__(self, *, configs: GuildConfigRepository, clock: Clock) -> None:
        self.configs = configs
        self.clock = clock

    @config_group.command(name="show", description="Show this server's Rollcall settings")
    @staff_only(organizers_allowed=False)
    async def config_show(self, interaction: Interaction) -> None:
        config = await self.configs.get(interaction.guild_id)
        embed = config_embed(config)
        mirror = scheduled_events_line(interaction.guild)
        if mirror is not None:
            embed.add_field(name="Scheduled events", value=mirror, inline=False)
        await send_reply(interaction, embed=embed)

    @config_group.command(name="set", description="Change one or more settings; options left out stay as they are")
    @app_commands.describe(
        admin_channel="Where admin commands answer and reports are posted",
        attendance_channel="Default channel for roll-call code messages",
        verification_channel="Where the persistent Verify button lives",
        log_channel="Where the bot logs corrections and changes",
        organizer_role="Role that may create and manage events and roll calls",
        member_role="Role given to members after verification",
        timezone="IANA time zone, for example Europe/Berlin",
        code_interval=f"Seconds between roll-call code changes (at least {CODE_INTERVAL.low})",
        code_length=f"Characters in a roll-call code ({CODE_LENGTH.low} to {CODE_LENGTH.high})",
        grace_seconds="Seconds the previous code is still accepted after it changes",
        late_after_minutes="Minutes after a roll call opens when answers count as late",
        verification_timeout_minutes="Minutes a new member has to verify before being removed",
        reminder_offsets="Minutes before an event's start to remind, for example 60,10",
        missed_attendance_notice="After an event ends, DM the Going members who did not attend (default off)",
    )
    @staff_only(organizers_allowed=False)
    async def config_set(
        self,
        interaction: Interaction,
        admin_channel: discord.TextChannel | None = None,
        attendance_channel: discord.TextChannel | None = None,
        verification_channel: discord.TextChannel | None = None,
        log_channel: discord.TextChannel | None = None,
        organizer_role: discord.Role | None = None,
        member_role: discord.Role | None = None,
        timezone: str | None = None,
        code_interval: app_commands.Range[int, CODE_INTERVAL.low, CODE_INTERVAL.high] | None = None,
        code_length: app_commands.Range[int, CODE_LENGTH.low, CODE_LENGTH.high] | None = None,
        grace_seconds: app_commands.Range[int, GRACE.low, GRACE.high] | None = None,
        late_after_minutes: app_commands.Range[int, LATE_AFTER.low, LATE_AFTER.high] | None = None,
        verification_timeout_minutes: app_commands.Range[int, VERIFICATION_TIMEOUT.low, VERIFICATION_TIMEOUT.high]
        | None = None,
        reminder_offsets: str | None = None,
        missed_attendance_notice: bool | None = None,
    ) -> None:
        current = await self.configs.get(interaction.guild_id)
        changes: dict[str, object] = {}
        for column, channel in (
            ("admin_channel_id", admin_channel),
            ("attendance_channel_id", attendance_channel),
            ("verification_channel_id", verification_channel),
            ("log_channel_id", log_channel),
        ):
            if channel is not None:
                ensure_can_post(channel)
                changes[column] = channel.id
        for column, role in (("organizer_role_id", organizer_role), ("member_role_id", member_role)):
            if role is not None:
                ensure_assignable(role)
                changes[column] = role.id
        self._ensure_admin_channel_fits(interaction.guild, current, admin_channel, organizer_role)
        if timezone is not None:
            name = timezone.strip()
            if not is_timezone(name):
                raise InvalidInput(
                    f"`{echo(timezone)}` is not a time zone I know. Use an IANA name such as `Europe/Berlin` or "
                    "`America/New_York`; start typing and pick one from the list."
                )
            changes["timezone"] = name
        numbers: tuple[tuple[str, int | None, str, Limit], ...] = (
            ("code_interval_seconds", code_interval, "The code interval", CODE_INTERVAL),
            ("code_length", code_length, "The code length", CODE_LENGTH),
            ("grace_seconds", grace_seconds, "The grace period", GRACE),
            ("late_after_minutes", late_after_minutes, "Late after", LATE_AFTER),
            (
                "verification_timeout_minutes",
                verification_timeout_minutes,
                "The verification timeout",
                VERIFICATION_TIMEOUT,
            ),
        )
        for column, value, label, limit in numbers:
            if value is not None:
                ensure_in_range(label, value, limit.bounds, limit.unit)
                changes[column] = value
        if reminder_offsets is not None:
            try:
                changes["reminder_offsets"] = parse_reminder_offsets(reminder_offsets)
            except ValueError as error:
                raise InvalidInput(str(error)) from None
        if missed_attendance_notice is not None:
            changes["missed_attendance_notice"] = missed_attendance_notice

        interval = changes.get("code_interval_seconds", current.code_interval_seconds)
        grace = changes.get("grace_seconds", current.grace_seconds)
        if grace >= interval:  # type: ignore[operator]
            raise InvalidInput(
                f"The grace period ({grace} s) must be shorter than the code interval ({interval} s). "
                "Lower `grace_seconds` or raise `code_interval`."
            )
        if not changes:
            raise InvalidInput("Nothing to change: pick at least one option, for example `timezone`.")

        updated = await self.configs.update(
            interaction.guild_id, changes, actor_id=interaction.user.id, now=self.clock.now()
        )
        text = f"Saved {len(changes)} setting(s)."
        if verification_channel is not None:
            text += await self._post_verify_panel(interaction, verification_channel)
        await send_reply(interaction, text, embed=config_embed(updated))

    @staticmethod
    async def _post_verify_panel(interaction: Interaction, channel: discord.TextChannel) -> str:
        """The verification channel holds the persistent Verify button (cogs/verification)."""
        verification = interaction.client.get_cog("Verification")
        if verification is None:
            return ""
        shown = await verification.gate.post_panel(channel.guild.id, channel.id)  # type: ignore[attr-defined]
        if shown is not None and shown.delivered:
            return f" The Verify button is posted in {channel.mention}."
        reason = shown.explain() if shown is not None else ""
        return f" I couldn't post the Verify button in {channel.mention}: {reason}"

    @staticmethod
    def _ensure_admin_channel_fits(
        guild: discord.Guild,
        current: GuildConfig,
        admin_channel: discord.TextChannel | None,
        organizer_role: discord.Role | None,
    ) -> None:
        """The admin channel must be private, and visible to the organizer role: checked for the
        pair as it will be after this command, whichever half of it changes."""
        channel = admin_channel or guild.get_channel(current.admin_channel_id or 0)
        role = organizer_role or guild.get_role(current.organizer_role_id or 0)
        if admin_channel is not None:
            ensure_private_admin_channel(admin_channel)
        if channel is not None and role is not None and (admin_channel is not None or organizer_role is not None):
            ensure_role_sees_admin_channel(role, channel)

    @config_set.autocomplete("timezone")
    @staff_autocomplete
    async def timezone_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice]:
        return [app_commands.Choice(name=name, value=name) for name in search_timezones(current)]


async def setup(bot: Rollcall) -> None:
    await bot.add_cog(Config(configs=bot.guild_configs, clock=bot.clock))
