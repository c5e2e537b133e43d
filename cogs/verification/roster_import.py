"""`/verify import`: a roster CSV in, one token per new entry out (once, as a CSV for a mail
merge), and e-mails when SMTP is set up.

A refused file (too big, not a CSV, too many rows, no `email`/`name` header) changes nothing.
Otherwise the good rows are written in chunks of `CHUNK_ROWS`, each its own transaction, so a
big import never holds the database's write lock long enough to stall a roll call; the deferred
reply shows rows done / total after every `PROGRESS_ROWS` rows or `PROGRESS_SECONDS` of the
clock. One import runs at a time per server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import discord

from bot.delivery import Target
from bot.errors import InvalidInput
from bot.mailer import Failure, Mail, Mailer
from bot.replies import send_files
from storage.verification import NewEntry, VerificationRepository
from utils.csv_export import build_csv, time_cells, time_header
from utils.roster import MAX_FILE_BYTES, BadRow, RosterRefused, RosterRow, parse_roster, too_big_message
from utils.text import shorten
from utils.timefmt import discord_timestamp, utc_iso
from utils.tokens import new_token, token_digest

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.delivery import Delivery
    from bot.types import Interaction

log = logging.getLogger(__name__)

CHUNK_ROWS = 1_000
PROGRESS_ROWS = 5_000
PROGRESS_SECONDS = 3
# Bad rows listed in the reply itself; more go into an attached report.
INLINE_BAD_ROWS = 10
TOKENS_FILE = "roster-tokens.csv"
REPORT_FILE = "roster-errors.csv"
MAIL_FAILURES_FILE = "email-failures.csv"
TOKEN_HEADER = ("email", "name", "token", *time_header("expires_at"))
MESSAGE_BUDGET = 1_900


@dataclass(frozen=True, slots=True)
class Issued:
    """A plain token on its way to the admin; never stored, never logged."""

    email: str
    name: str
    token: str
    expires_at: datetime


def tokens_csv(issued: Sequence[Issued], timezone: str) -> bytes:
    rows = [(item.email, item.name, item.token, *time_cells(item.expires_at, timezone)) for item in issued]
    return build_csv(TOKEN_HEADER, rows)


def token_mail(item: Issued, guild_name: str) -> Mail:
    return Mail(
        to=item.email,
        subject=f"Your verification token for {guild_name}",
        body=(
            f"Hello {item.name},\n\n"
            f"To take part in {guild_name} on Discord, verify with this e-mail address and this token:\n\n"
            f"    E-mail: {item.email}\n"
            f"    Token:  {item.token}\n\n"
            "Join the server, then press Verify in the bot's direct message or in the server's verification "
            "channel (or type /verify me) and enter both.\n"
            f"The token works once and expires on {utc_iso(item.expires_at)} (UTC).\n"
        ),
    )


def bad_rows_text(bad: Sequence[BadRow]) -> str:
    return "\n".join(f"• line {row.line}: {row.reason}" for row in bad)


class RosterImport:
    def __init__(
        self,
        repo: VerificationRepository,
        delivery: Delivery,
        clock: Clock,
        mailer: Mailer | None,
    ) -> None:
        self.repo = repo
        self.delivery = delivery
        self.clock = clock
        self.mailer = mailer
        self._running: set[int] = set()

    async def run(
        self, interaction: Interaction, file: discord.Attachment, expiry_days: int, mode: str, timezone: str
    ) -> None:
        guild_id = interaction.guild_id or 0
        if file.size > MAX_FILE_BYTES:
            raise InvalidInput(too_big_message(file.size))
        if guild_id in self._running:
            raise InvalidInput("An import is already running in this server; wait for its report, then try again.")
        self._running.add(guild_id)
        try:
            await self._run(interaction, guild_id, file, expiry_days, mode, timezone)
        finally:
            self._running.discard(guild_id)

    async def _run(
        self,
        interaction: Interaction,
        guild_id: int,
        file: discord.Attachment,
        expiry_days: int,
        mode: str,
        timezone: str,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except (discord.HTTPException, discord.NotFound):
            raise InvalidInput("I couldn't download that file from Discord. Upload it again.") from None
        try:
            parsed = parse_roster(data)
        except RosterRefused as refused:
            raise InvalidInput(f"Nothing was imported. {refused.message}") from None

        now = self.clock.now()
        expires_at = now + timedelta(days=expiry_days)
        existing = await self.repo.existing(guild_id)
        accepted, bad = self._dedupe(parsed.rows, list(parsed.bad), existing, mode)
        key = await self.repo.token_key()
        entries: list[NewEntry] = []
        issued: list[Issued] = []
        kept_verified = 0
        for row in accepted:
            token = new_token()
            entries.append(NewEntry(row.email, row.name, row.discord_username, token_digest(key, guild_id, token)))
            if existing.get(row.email):
                kept_verified += 1  # a verified entry keeps its link; the token written is ignored
            else:
                issued.append(Issued(row.email, row.name, token, expires_at))

        await self._write(interaction, guild_id, entries, mode=mode, expires_at=expires_at, now=now)
        updated = sum(1 for row in accepted if row.email in existing)
        log.info(
            "Roster import in guild %s by %s: %d rows written (%d updated), %d refused",
            guild_id,
            interaction.user.id,
            len(entries),
            updated,
            len(bad),
        )
        bad.sort(key=lambda row: row.line)
        files = [(TOKENS_FILE, tokens_csv(issued, timezone))] if issued else []
        text = self._summary(file.filename, len(entries), updated, kept_verified, len(issued), expires_at)
        if bad:
            listed = bad_rows_text(bad)
            if len(bad) <= INLINE_BAD_ROWS and len(text) + len(listed) < MESSAGE_BUDGET:
                text += f"\n**{len(bad)} row(s) refused:**\n{listed}"
            else:
                text += f"\n**{len(bad)} rows refused**: see `{REPORT_FILE}` (line in your file, reason)."
                report = build_csv(("line", "reason"), [(row.line, row.reason) for row in bad])
                files.append((REPORT_FILE, report))
        if issued and self.mailer is not None:
            text += f"\n📧 I'm e-mailing each of the {len(issued):,} tokens now and will report here when done."
        await send_files(interaction, shorten(text, MESSAGE_BUDGET), files)
        if issued and self.mailer is not None and interaction.guild is not None:
            await self.send_mails(interaction, issued, interaction.guild.name)

    @staticmethod
    def _dedupe(
        rows: Sequence[RosterRow], bad: list[BadRow], existing: dict[str, bool], mode: str
    ) -> tuple[list[RosterRow], list[BadRow]]:
        """In `add` mode an e-mail seen before (earlier in the file or in the roster) is a bad row;
        in `update` mode the later row wins."""
        accepted: dict[str, RosterRow] = {}
        for row in rows:
            earlier = accepted.get(row.email)
            if mode == "add":
                if earlier is not None:
                    bad.append(BadRow(row.line, f"the e-mail repeats line {earlier.line}"))
                    continue
                if row.email in existing:
                    bad.append(BadRow(row.line, "the e-mail is already in the roster (import with `mode: update`)"))
                    continue
            accepted[row.email] = row
        return list(accepted.values()), bad

    async def _write(
        self,
        interaction: Interaction,
        guild_id: int,
        entries: Sequence[NewEntry],
        *,
        mode: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        total = len(entries)
        shown_rows = 0
        shown_at = self.clock.now()
        for start in range(0, total, CHUNK_ROWS):
            chunk = entries[start : start + CHUNK_ROWS]
            await self.repo.import_chunk(guild_id, chunk, mode=mode, expires_at=expires_at, now=now)
            done = start + len(chunk)
            moment = self.clock.now()
            due = done - shown_rows >= PROGRESS_ROWS or moment - shown_at >= timedelta(seconds=PROGRESS_SECONDS)
            if done < total and due:
                shown_rows, shown_at = done, moment
                await interaction.edit_original_response(content=f"⏳ Importing… {done:,} / {total:,} rows")
            # Let interactions queued behind a big import be answered between chunks.
            await asyncio.sleep(0)

    @staticmethod
    def _summary(filename: str, written: int, updated: int, kept: int, issued: int, expires_at: datetime) -> str:
        lines = [f"📥 Imported **{written:,}** roster entr{'y' if written == 1 else 'ies'} from `{filename[:80]}`."]
        if updated:
            lines.append(f"{updated:,} of them were already in the roster and were updated.")
        if kept:
            lines.append(f"{kept:,} of those were already verified: their names changed, they got no new token.")
        if issued:
            lines.append(
                f"**{issued:,}** new token(s), valid until {discord_timestamp(expires_at, 'f')}: they are in "
                f"`{TOKENS_FILE}`. This is the only time they are shown; keep the file private (use it for a mail "
                "merge)."
            )
        return "\n".join(lines)

    async def send_mails(self, interaction: Interaction, issued: Sequence[Issued], guild_name: str) -> None:
        assert self.mailer is not None
        failures = await self.mailer.send_all([token_mail(item, guild_name) for item in issued])
        await self.report_mail(interaction, len(issued), failures)

    async def report_mail(self, interaction: Interaction, sent: int, failures: Sequence[Failure]) -> None:
        text = f"📧 E-mailed {sent - len(failures):,} of {sent:,} token(s)."
        files: list[tuple[str, bytes]] = []
        if failures:
            listed = "\n".join(f"• {failure.address}: {failure.reason}" for failure in failures)
            if len(failures) <= INLINE_BAD_ROWS and len(text) + len(listed) < MESSAGE_BUDGET:
                text += f" These did not go out:\n{listed}"
            else:
                text += f" {len(failures):,} did not go out: see `{MAIL_FAILURES_FILE}`."
                rows = [(failure.address, failure.reason) for failure in failures]
                files.append((MAIL_FAILURES_FILE, build_csv(("email", "reason"), rows)))
            text += "\nTheir tokens are in the CSV above; send those by hand, or fix the address and `/verify refresh`."
        try:
            await send_files(interaction, text, files)
        except discord.HTTPException:
            # The interaction's 15 minutes ran out during a long batch: the admin reads it by DM instead,
            # never in a channel others can read (it lists addresses).
            await self.delivery.send(Target.dm(interaction.user.id), text, files=files)
