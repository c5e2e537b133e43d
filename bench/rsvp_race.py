"""500 members click Going on one event with 50 seats, all at the same instant.

The bot boots as in production (members arrive after setup_hook), an admin creates the event
through /event create and its modal, and every member's Going click is handed to discord.py's
parser without yielding in between, as when a burst is already buffered on the gateway
socket. Latency runs from that instant to each recorded initial response. Then scheduled
jobs run, two seconds of clock at a time, until the post's refresh is done; the post must show
the final counts. Prints one JSON line.

    python -m bench.rsvp_race [--members 500] [--capacity 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ErrorCount, boot_hall, burst_latencies_ms, percentile, shutdown_bot
from cogs.events.cog import REFRESH_JOB

MAX_REFRESH_ROUNDS = 100


def post_fields(message: dict[str, Any]) -> dict[str, str]:
    return {field["name"]: field["value"] for field in message["embeds"][0]["fields"]}


async def run(members: int, capacity: int) -> dict[str, Any]:
    errors = ErrorCount()
    logging.getLogger().addHandler(errors)
    with tempfile.TemporaryDirectory() as tmp:
        hall = await boot_hall(Path(tmp) / "rollcall.db", members)
        h, side, clock = hall.harness, hall.side, hall.clock
        try:
            opened = await h.command(
                "event create",
                user="admin",
                channel="admin",
                options={"channel": h.channel("general"), "capacity": capacity},
            )
            values = {
                "event_title": "Launch party",
                "event_description": "",
                "event_start": "tomorrow 19:00",
                "event_end": "22:00",
                "event_location": "",
            }
            created = await h.submit_modal(opened.modal, values, user="admin", channel="admin")
            assert "is posted" in created.text, created.text
            event_id = int(await hall.bot.db.fetch_value("SELECT max(id) FROM event"))
            event = await hall.bot.events.get(event_id)
            post = side.stored_message(event.message_id)
            custom_id = f"rollcall:event:going:{event_id}"
            payloads = [
                h.component_payload(post, custom_id, user=h.guild.get_member(member_id))
                for member_id in hall.student_ids
            ]
            edits_before = sum(1 for sent in side.sent if sent.kind == "edit")
            errors.count = 0
            latencies_ms = await burst_latencies_ms(h, side, payloads)

            for _ in range(MAX_REFRESH_ROUNDS):
                await hall.bot.run_due_jobs()
                await h.idle()
                if f"{REFRESH_JOB}:{event_id}" not in hall.bot.jobs.job_ids():
                    break
                clock.advance(seconds=2)
            edits = sum(1 for sent in side.sent if sent.kind == "edit") - edits_before

            going = [rsvp.user_id for rsvp in await hall.bot.events.list_rsvps(event_id, "going")]
            waiting = [rsvp.user_id for rsvp in await hall.bot.events.list_rsvps(event_id, "waitlist")]
            click_order = hall.student_ids
            order_ok = going == click_order[:capacity] and waiting == click_order[capacity:]
            fields = post_fields(side.stored_message(event.message_id))
            shows_final = fields.get(f"Going ({len(going)}/{capacity})") is not None and fields.get("Waitlist") == str(
                len(waiting)
            )
        finally:
            await shutdown_bot(hall.bot)
    logging.getLogger().removeHandler(errors)
    return {
        "members": members,
        "seated": len(going),
        "waitlisted": len(waiting),
        "overbooked": max(0, len(going) - capacity),
        "order_ok": int(order_ok),
        "edits": edits,
        "post_final": int(shows_final),
        "answered": len(latencies_ms),
        "errors": errors.count,
        "p99_ms": round(percentile(latencies_ms, 0.99), 1) if latencies_ms else None,
        "max_ms": round(max(latencies_ms), 1) if latencies_ms else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--capacity", type=int, default=50)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.members, args.capacity))))


if __name__ == "__main__":
    main()
