"""/verify: members verify with `/verify me`; admins import the roster and manage who verified.

Every admin command answers ephemerally, so e-mail addresses and tokens are read only by the
admin who asked (and, in the admin channel, by nobody else: the reply is ephemeral there too).
The join, deadline and modal logic is the `Gatekeeper` (gate.py); the import, roster_import.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import AUDIENCE_ADMIN, AUDIENCE_EVERYONE, ensure_in_range, is_admin, staff_only
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.replies import send_files, send_reply
from cogs.verification import redact
from cogs.verification.gate import Gatekeeper
from cogs.verification.roster_import import TOKENS_FILE, Issued, RosterImport, tokens_csv
from cogs.verification.views import StatusPageButton, VerifyButton, render_status_page
from storage.verification import ENTRY_STATUSES, IMPORT_MODES, RosterEntry
from utils.csv_export import build_csv, time_cells, time_header
from utils.limits import TOKEN_EXPIRY_DAYS, VERIFICATION_TIMEOUT
from utils.roster import MAX_EMAIL, normalize_email
from utils.text import echo, shorten
from utils.timefmt import discord_timestamp
from utils.tokens import new_token, token_digest

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.types import Interaction
    from storage.guild_config import GuildConfig, GuildConfigRepository

log = logging.getLogger(__name__)

ADMIN = {"audience": AUDIENCE_ADMIN}
LIST_SHOWN = 20
EXPORT_HEADER = (
    "email",
    "name",
    "discord_username",
    "status",
    "user_id",
    *time_header("verified_at"),
    *time_header("token_expires_at"),
    *time_header("created_at"),
)
MODE_CHOICES = [
    app_commands.Choice(name="add: refuse e-mails already in the roster", value="add"),
    app_commands.Choice(name="update: replace them (new name, new token)", value="update"),
]
STATUS_CHOICES = [app_commands.Choice(name=status, value=status) for status in ENTRY_STATUSES]


def entry_line(entry: RosterEntry, status: str) -> str:
    who = f" · <@{entry.user_id}>" if entry.user_id else ""
    return f"`{shorten(entry.email, 60)}` · {shorten(entry.name, 40)} · {status}{who}"


class Verification(commands.Cog):
    verify_group = app_commands.Group(
        name="verify",
        description="Verify members against the roster",
        guild_only=True,
        extras={"audience": AUDIENCE_EVERYONE},
    )
    dynamic_items = (VerifyButton, StatusPageButton)

    def __init__(
        self, *, gate: Gatekeeper, importer: RosterImport, configs: GuildConfigRepository, clock: Clock
    ) -> None:
        self.gate = gate
        self.repo = gate.repo
        self.importer = importer
        self.configs = configs
        self.clock = clock
        self._redaction: redact.Installed | None = None

    async def cog_load(self) -> None:
        self._redaction = redact.install()

    async def cog_unload(self) -> None:
        if self._redaction is not None:
            redact.uninstall(self._redaction)
        await self.repo.flush()

    async def reconcile(self) -> None:
        await self.gate.reconcile()

    # ---- gateway events -----------------------------------------------------------------

    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self.gate.member_joined(member)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.gate.member_left(payload.guild_id, payload.user.id)

    # ---- members ------------------------------------------------------------------------

    @verify_group.command(name="me", description="Verify yourself with your e-mail address and token")
    async def verify_me(self, interaction: Interaction) -> None:
        await self.gate.open_modal(interaction, interaction.guild_id or 0)

    # ---- admins -------------------------------------------------------------------------

    @verify_group.command(
        name="import", description="Import a roster CSV (email,name) and get a token per entry", extras=ADMIN
    )
    @app_commands.describe(
        file="CSV with columns email and name (discord_username optional); , or ; separated",
        expiry_days=f"Days the new tokens stay valid ({TOKEN_EXPIRY_DAYS.low} to {TOKEN_EXPIRY_DAYS.high}, default 7)",
        mode="What to do with an e-mail already in the roster or repeated in the file (default: add)",
    )
    @app_commands.choices(mode=MODE_CHOICES)
    @staff_only(organizers_allowed=False)
    async def verify_import(
        self,
        interaction: Interaction,
        file: discord.Attachment,
        expiry_days: app_commands.Range[int, TOKEN_EXPIRY_DAYS.low, TOKEN_EXPIRY_DAYS.high] = 7,
        mode: str = "add",
    ) -> None:
        ensure_in_range("The expiry", expiry_days, TOKEN_EXPIRY_DAYS.bounds, TOKEN_EXPIRY_DAYS.unit)
        if mode not in IMPORT_MODES:
            raise InvalidInput(f"`{echo(mode)}` is not a mode: pick add or update from the list.")
        config = await self.configs.get(interaction.guild_id or 0)
        await self.importer.run(interaction, file, expiry_days, mode, config.timezone)

    @verify_group.command(
        name="status", description="Members who still have to verify, with their deadlines", extras=ADMIN
    )
    @staff_only(organizers_allowed=False)
    async def verify_status(self, interaction: Interaction) -> None:
        embed, view = await render_status_page(self.gate, interaction.guild_id or 0, 0)
        await send_reply(interaction, embed=embed, view=view)

    @verify_group.command(
        name="force", description="Verify a member by hand and give them the member role", extras=ADMIN
    )
    @app_commands.describe(member="The member to verify")
    @staff_only(organizers_allowed=False)
    async def verify_force(self, interaction: Interaction, member: discord.Member) -> None:
        config = self._config_with_role(await self.configs.get(interaction.guild_id or 0))
        if member.bot:
            raise InvalidInput(f"{member.mention} is a bot; bots don't verify.")
        assert interaction.guild is not None
        given = await self.gate.force(interaction.guild, member, config, interaction.user.id)
        if not given:
            await send_reply(
                interaction,
                f"{member.mention} is recorded as verified, but I couldn't give them <@&{config.member_role_id}>; "
                "the admin channel has the fix.",
            )
            return
        await send_reply(interaction, f"✅ {member.mention} is verified and has <@&{config.member_role_id}>.")

    @verify_group.command(
        name="timeout", description="Minutes a new member has to verify before being removed", extras=ADMIN
    )
    @app_commands.describe(minutes=f"{VERIFICATION_TIMEOUT.low} to {VERIFICATION_TIMEOUT.high} minutes")
    @staff_only(organizers_allowed=False)
    async def verify_timeout(
        self,
        interaction: Interaction,
        minutes: app_commands.Range[int, VERIFICATION_TIMEOUT.low, VERIFICATION_TIMEOUT.high],
    ) -> None:
        ensure_in_range("The verification timeout", minutes, VERIFICATION_TIMEOUT.bounds, VERIFICATION_TIMEOUT.unit)
        await self.configs.update(
            interaction.guild_id or 0,
            {"verification_timeout_minutes": minutes},
            actor_id=interaction.user.id,
            now=self.clock.now(),
        )
        await send_reply(
            interaction,
            f"New members now have {minutes} minutes to verify. Deadlines already running keep their time.",
        )

    @verify_group.command(
        name="list", description="Roster entries, optionally only pending, verified or expired", extras=ADMIN
    )
    @app_commands.describe(status="Only entries with this status")
    @app_commands.choices(status=STATUS_CHOICES)
    @staff_only(organizers_allowed=False)
    async def verify_list(self, interaction: Interaction, status: str | None = None) -> None:
        if status is not None and status not in ENTRY_STATUSES:
            raise InvalidInput(f"`{echo(status)}` is not a status: pick pending, verified or expired.")
        guild_id = interaction.guild_id or 0
        now = self.clock.now()
        total = await self.repo.count_entries(guild_id, status=status, now=now)
        entries = await self.repo.list_entries(guild_id, status=status, now=now, limit=LIST_SHOWN)
        title = f"Roster: {status}" if status else "Roster"
        embed = discord.Embed(title=f"{title} ({total:,})", colour=discord.Colour.blurple())
        if not entries:
            embed.description = "No entries." if status else "The roster is empty. Import one with `/verify import`."
        else:
            lines = [entry_line(entry, entry.status_at(now)) for entry in entries]
            if total > len(entries):
                lines.append(f"… and {total - len(entries):,} more: `/verify export` has them all.")
            embed.description = shorten("\n".join(lines), 4_000)
        await send_reply(interaction, embed=embed)

    @verify_group.command(
        name="refresh", description="Give a roster entry a new token (the old one stops working)", extras=ADMIN
    )
    @app_commands.describe(
        email="The roster entry's e-mail address",
        expiry_days=f"Days the new token stays valid ({TOKEN_EXPIRY_DAYS.low} to {TOKEN_EXPIRY_DAYS.high}, default 7)",
    )
    @staff_only(organizers_allowed=False)
    async def verify_refresh(
        self,
        interaction: Interaction,
        email: app_commands.Range[str, 1, MAX_EMAIL],
        expiry_days: app_commands.Range[int, TOKEN_EXPIRY_DAYS.low, TOKEN_EXPIRY_DAYS.high] = 7,
    ) -> None:
        ensure_in_range("The expiry", expiry_days, TOKEN_EXPIRY_DAYS.bounds, TOKEN_EXPIRY_DAYS.unit)
        guild_id = interaction.guild_id or 0
        address = normalize_email(email)
        entry = await self._entry(guild_id, address)
        if entry.token_used_at is not None:
            raise InvalidInput(
                f"`{shorten(address, 80)}` already verified <@{entry.user_id}>, so a new token would do nothing. "
                "To let someone else use it, `/verify remove` it and import it again."
            )
        now = self.clock.now()
        token = new_token()
        expires_at = now + timedelta(days=expiry_days)
        key = await self.repo.token_key()
        refreshed = await self.repo.refresh_token(
            guild_id,
            address,
            token_hash=token_digest(key, guild_id, token),
            expires_at=expires_at,
            actor_id=interaction.user.id,
            now=now,
        )
        if refreshed is None:
            raise InvalidInput(f"`{shorten(address, 80)}` was used meanwhile; nothing was changed.")
        log.info("Admin %s refreshed roster entry %s in guild %s", interaction.user.id, refreshed.id, guild_id)
        issued = [Issued(refreshed.email, refreshed.name, token, expires_at)]
        text = (
            f"🔑 New token for `{shorten(address, 80)}`, valid until {discord_timestamp(expires_at, 'f')}; the old one "
            f"no longer works. It is in `{TOKENS_FILE}`, shown this once."
        )
        mailing = self.importer.mailer is not None and interaction.guild is not None
        if mailing:
            text += " 📧 I'm e-mailing it now."
        timezone = (await self.configs.get(guild_id)).timezone
        data = tokens_csv(issued, timezone)
        await send_files(interaction, text, [(TOKENS_FILE, data)])
        if mailing:
            assert interaction.guild is not None
            await self.importer.send_mails(interaction, issued, interaction.guild.name)

    @verify_group.command(name="remove", description="Delete a roster entry", extras=ADMIN)
    @app_commands.describe(email="The roster entry's e-mail address")
    @staff_only(organizers_allowed=False)
    async def verify_remove(self, interaction: Interaction, email: app_commands.Range[str, 1, MAX_EMAIL]) -> None:
        guild_id = interaction.guild_id or 0
        address = normalize_email(email)
        entry = await self.repo.remove_entry(guild_id, address, actor_id=interaction.user.id, now=self.clock.now())
        if entry is None:
            raise NotFound(f"`{shorten(address, 80)}` is not in this server's roster. `/verify list` shows who is.")
        log.info("Admin %s removed roster entry %s in guild %s", interaction.user.id, entry.id, guild_id)
        text = f"🗑️ Removed `{shorten(address, 80)}` from the roster; its token no longer works."
        if entry.user_id:
            text += f" <@{entry.user_id}> verified with it and keeps the member role (remove it by hand if needed)."
        await send_reply(interaction, text)

    @verify_group.command(name="export", description="The roster and who verified, as a CSV", extras=ADMIN)
    @staff_only(organizers_allowed=False)
    async def verify_export(self, interaction: Interaction) -> None:
        guild_id = interaction.guild_id or 0
        now = self.clock.now()
        entries = await self.repo.list_entries(guild_id, status=None, now=now)
        timezone = (await self.configs.get(guild_id)).timezone
        rows = [
            (
                entry.email,
                entry.name,
                entry.discord_username or "",
                entry.status_at(now),
                entry.user_id or "",
                *time_cells(entry.verified_at, timezone),
                *time_cells(entry.token_expires_at, timezone),
                *time_cells(entry.created_at, timezone),
            )
            for entry in entries
        ]
        data = build_csv(EXPORT_HEADER, rows)
        name = f"roster-{now:%Y-%m-%d}.csv"
        await send_files(interaction, f"{len(rows):,} roster entries.", [(name, data)])

    @verify_group.command(
        name="enforce_existing",
        description="Give members without the member role a deadline to verify too",
        extras=ADMIN,
    )
    @staff_only(organizers_allowed=False)
    async def verify_enforce_existing(self, interaction: Interaction) -> None:
        guild = interaction.guild
        assert guild is not None
        config = self._config_with_role(await self.configs.get(guild.id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        pending = {deadline.user_id for deadline in await self.repo.list_deadlines(guild.id)}
        chosen = []
        for member in guild.members:
            if member.bot or member.id in pending or member.get_role(config.member_role_id or 0) is not None:
                continue
            if is_admin(member, member.guild_permissions):
                continue
            if await self.repo.get_verified(guild.id, member.id) is not None:
                continue
            chosen.append(member)
        closed = await self.gate.add_deadlines(guild, config, chosen)
        log.info("Admin %s gave %d existing members of guild %s a deadline", interaction.user.id, len(chosen), guild.id)
        text = (
            f"{len(chosen):,} member(s) without <@&{config.member_role_id}> now have "
            f"{config.verification_timeout_minutes} minutes to verify (admins are left out)."
        )
        if closed:
            text += f" {closed:,} of them don't accept DMs; they can use the Verify button in the verification channel."
        await send_reply(interaction, text)

    # ---- helpers ------------------------------------------------------------------------

    @staticmethod
    def _config_with_role(config: GuildConfig) -> GuildConfig:
        if config.member_role_id is None:
            raise NotAllowed("Set the member role first: `/config set member_role:` (it is what verifying gives).")
        return config

    async def _entry(self, guild_id: int, address: str) -> RosterEntry:
        entry = await self.repo.get_entry(guild_id, address)
        if entry is None:
            raise NotFound(f"`{shorten(address, 80)}` is not in this server's roster. `/verify list` shows who is.")
        return entry
