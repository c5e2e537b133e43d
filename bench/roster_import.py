"""A 10,000-row roster import, then 1,000 members verifying at the same instant.

The bot boots as in production; an admin switches verification on and runs `/verify import`
with a generated roster as the attachment (downloaded from the harness's fake CDN), through
discord.py's parser and the command tree: `import_seconds` runs from handing that interaction
over to the import's final report. Then 1,000 members join (the Verify DM each), each opens the
modal from the DM, and all 1,000 modal submits with their tokens are handed to discord.py's
parser at one instant without yielding; latency runs from that instant to each recorded initial
response. Prints one JSON line:

    {"rows": 10000, "import_seconds": …, "verify_p99_ms": …, "verified": 1000, "peak_rss_mb": …}

Targets: import_seconds < 10, verify_p99_ms < 500, verified 1000, peak_rss_mb < 300.

    python -m bench.roster_import [--rows 10000] [--members 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import START, ErrorCount, FakeDiscord, burst_latencies_ms, percentile, shutdown_bot
from bot.clock import ManualClock
from config import Settings
from tests.harness import UploadedFile, World, boot_bot
from tests.harness.private import install_webhook_handler

EMAIL_INPUT = "rollcall:verify:email"
TOKEN_INPUT = "rollcall:verify:token"


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return round(peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024, 1)


def roster(rows: int) -> bytes:
    lines = ["email,name"] + [f"person{i:05d}@example.org,Person {i:05d}" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


async def run(rows: int, members: int) -> dict[str, Any]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    side = FakeDiscord()
    install_webhook_handler(side.webhook_request)
    clock = ManualClock(START)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(token="bench", database_path=Path(tmp) / "rollcall.db")
        bot, h = await boot_bot(settings, side, World(), clock)
        try:
            configured = await h.command(
                "config set",
                user="admin",
                options={
                    "admin_channel": h.channel("admin"),
                    "member_role": h.role("Member"),
                    "verification_channel": h.channel("verification"),
                },
            )
            assert "Saved" in configured.text, configured.text

            payload = h.command_payload(
                "verify import",
                user=h.member("admin"),
                channel=h.channel("admin"),
                options={"file": UploadedFile("roster.csv", roster(rows))},
            )
            began = time.perf_counter()
            imported = await h.dispatch(payload)
            import_seconds = time.perf_counter() - began
            report = next(sent for sent in imported.own if sent.kind == "followup" and "Imported" in sent.content)
            text = report.file("roster-tokens.csv").decode("utf-8-sig")
            tokens = {row["email"]: row["token"] for row in csv.DictReader(io.StringIO(text))}
            assert len(tokens) == rows, f"{len(tokens)} tokens for {rows} rows"

            joined = [await h.member_join(f"joiner{i:04d}") for i in range(members)]
            modals = []
            for member in joined:
                dm = side.dms_to(member.id)[-1]
                opened = await h.dm_click(dm, f"rollcall:verify:start:{h.guild.id}", user=member)
                modals.append(opened.modal)
            submits = [
                h.dm_modal_payload(
                    modal,
                    {EMAIL_INPUT: f"person{i:05d}@example.org", TOKEN_INPUT: tokens[f"person{i:05d}@example.org"]},
                    user=member,
                )
                for i, (member, modal) in enumerate(zip(joined, modals, strict=True))
            ]
            latencies_ms = await burst_latencies_ms(h, side, submits)
            verified = int(await bot.db.fetch_value("SELECT count(*) FROM roster_entry WHERE verified_at IS NOT NULL"))
            role_id = h.role("Member").id
            with_role = sum(1 for member in joined if h.guild.get_member(member.id).get_role(role_id) is not None)
        finally:
            await shutdown_bot(bot)
    logging.getLogger().removeHandler(errors)
    return {
        "rows": rows,
        "import_seconds": round(import_seconds, 2),
        "verify_p99_ms": round(percentile(latencies_ms, 0.99), 1) if latencies_ms else None,
        "verified": min(verified, with_role),
        "peak_rss_mb": peak_rss_mb(),
        "answered": len(latencies_ms),
        "errors": errors.count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--members", type=int, default=1_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.rows, args.members))))


if __name__ == "__main__":
    main()
