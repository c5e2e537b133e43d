"""What the verification tests share: switching verification on, importing a roster through
`/verify import` and reading the tokens back from the CSV the admin received."""

from __future__ import annotations

import csv
import io

import discord

from tests.harness import Harness, InteractionResult, Sent, UploadedFile

ROSTER = (
    "email,name,discord_username\r\n"
    "ada@example.org,Ada Lovelace,\r\n"
    "grace@example.org,Grace Hopper,\r\n"
    "alan@example.org,Alan Turing,\r\n"
)


async def switch_on(h: Harness) -> None:
    """An admin sets the admin channel, the member role and the verification channel (the panel)."""
    done = await h.command(
        "config set",
        user="admin",
        options={
            "admin_channel": h.channel("admin"),
            "member_role": h.role("Member"),
            "verification_channel": h.channel("verification"),
        },
    )
    assert "Saved" in done.text, done.text


def final_reply(result: InteractionResult) -> Sent:
    """The import's report: the follow-up carrying the summary (progress edits come before it)."""
    followups = [sent for sent in result.own if sent.kind == "followup"]
    assert followups, f"no follow-up; the bot sent {[s.kind for s in result.sent]}"
    return next((sent for sent in followups if "Imported" in sent.content or "Nothing" in sent.content), followups[-1])


def tokens_from(sent: Sent) -> dict[str, str]:
    """email -> token from the tokens CSV the admin got."""
    text = sent.file("roster-tokens.csv").decode("utf-8-sig")
    return {row["email"]: row["token"] for row in csv.DictReader(io.StringIO(text))}


async def import_roster(
    h: Harness, content: str | bytes = ROSTER, *, filename: str = "roster.csv", **options: object
) -> InteractionResult:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return await h.command(
        "verify import",
        user="admin",
        channel="admin",
        options={"file": UploadedFile(filename, data), **options},  # type: ignore[dict-item]
    )


async def imported_tokens(h: Harness, content: str | bytes = ROSTER, **options: object) -> dict[str, str]:
    result = await import_roster(h, content, **options)
    return tokens_from(final_reply(result))


def prompt_dm(h: Harness, member: discord.abc.User) -> Sent:
    dms = [sent for sent in h.discord.dms_to(member.id) if "rollcall:verify:start:" in " ".join(sent.custom_ids)]
    assert dms, f"{member} got no Verify DM"
    return dms[-1]


async def verify_by_dm(h: Harness, member: discord.Member, email: str, token: str) -> InteractionResult:
    """The member presses Verify in the join DM and submits the modal there."""
    dm = prompt_dm(h, member)
    opened = await h.dm_click(dm, f"rollcall:verify:start:{h.guild.id}", user=member)
    return await h.dm_submit_modal(
        opened.modal, {"rollcall:verify:email": email, "rollcall:verify:token": token}, user=member
    )


async def verify_by_command(h: Harness, member: discord.Member, email: str, token: str) -> InteractionResult:
    opened = await h.command("verify me", user=member, channel="verification")
    return await h.submit_modal(
        opened.modal,
        {"rollcall:verify:email": email, "rollcall:verify:token": token},
        user=member,
        channel="verification",
    )


async def count(h: Harness, table: str) -> int:
    queries = {
        "roster_entry": "SELECT count(*) FROM roster_entry",
        "verify_deadline": "SELECT count(*) FROM verify_deadline",
        "verify_attempt": "SELECT count(*) FROM verify_attempt",
        "verified_member": "SELECT count(*) FROM verified_member",
    }
    return int(await h.bot.db.fetch_value(queries[table]))
