"""A lecture hall answering a roll call while the bot is killed (SIGKILL) mid-burst.

The bot runs in a child process on a database file: it opens a roll call, then 5,000
students send `/here` at 2,500 a second (so that group commits are in flight all the time
and the kill lands between, or inside, transactions). The child writes each student's id to its stdout the
moment the fake Discord records the bot's "present" reply. Once about half are
acknowledged the parent kills it without warning, opens the file with plain sqlite3, runs
`PRAGMA integrity_check` and checks that every acknowledged student has a row. Prints one
JSON line (lists hold one entry per run):

    {"runs": 3, "acknowledged": [...], "acknowledged_missing": [0, 0, 0], "rows": [...], "integrity": "ok"}

    python -m bench.here_crash
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import STUDENT_ID_BASE, FakeDiscord, boot_hall
from bench.here_burst import PACED_RATE_PER_SECOND, dispatch_paced

STUDENTS = 5000
RUNS = 3
ACKNOWLEDGED_MARK = "marked **present**"
CHILD_TIMEOUT_SECONDS = 300
READY_LINE = b"ready\n"


class AcknowledgingDiscord(FakeDiscord):
    """The fake Discord, telling the parent of each accepted reply as soon as it records it."""

    def __init__(self, out_fd: int) -> None:
        super().__init__()
        self.out_fd = out_fd
        self.member_of: dict[int, int] = {}

    def _record(self, sent: Any) -> Any:
        recorded = super()._record(sent)
        if sent.kind == "response" and sent.interaction_id in self.member_of and ACKNOWLEDGED_MARK in sent.content:
            # Unbuffered: the line is in the pipe before the bot goes on, so a kill cannot lose it.
            os.write(self.out_fd, b"%d\n" % self.member_of[sent.interaction_id])
        return recorded


async def child(database_path: Path, students: int) -> None:
    """Boot the bot on the file, open a roll call, tell the parent, then run the burst."""
    out_fd = os.dup(sys.stdout.fileno())
    sys.stdout = sys.stderr  # nothing but acknowledgements goes to the parent's pipe
    logging.basicConfig(level=logging.WARNING)
    side = AcknowledgingDiscord(out_fd)
    hall = await boot_hall(database_path, students, side)
    payloads = hall.here_payloads()
    side.member_of = {int(p["id"]): int(p["member"]["user"]["id"]) for p in payloads}
    os.write(out_fd, READY_LINE)
    await dispatch_paced(hall.harness.dispatch_nowait, payloads, PACED_RATE_PER_SECOND)
    # Run until killed; the parent never lets the burst finish unharmed.
    await asyncio.sleep(CHILD_TIMEOUT_SECONDS)


def run_once(database_path: Path, students: int) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.here_crash", "--child", str(database_path), "--students", str(students)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert process.stdout is not None
    if process.stdout.readline() != READY_LINE:
        process.kill()
        raise RuntimeError("the bench child did not start; see its error output above")
    acknowledged: set[int] = set()
    kill_after = students // 2
    killed_at = None
    for line in process.stdout:
        acknowledged.add(int(line))
        if killed_at is None and len(acknowledged) >= kill_after:
            os.kill(process.pid, signal.SIGKILL)
            killed_at = len(acknowledged)
    # Lines written before the kill are still in the pipe and were read above until EOF.
    process.wait(CHILD_TIMEOUT_SECONDS)
    if process.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the bench child ended with {process.returncode} before it was killed")

    connection = sqlite3.connect(database_path)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        rows = {
            user_id
            for (user_id,) in connection.execute(
                "SELECT user_id FROM attendance_record WHERE user_id >= ? AND status = 'present'", (STUDENT_ID_BASE,)
            )
        }
    finally:
        connection.close()
    return {
        "acknowledged": len(acknowledged),
        "acknowledged_missing": len(acknowledged - rows),
        "rows": len(rows),
        "integrity": integrity,
    }


def run(runs: int, students: int) -> dict[str, Any]:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_once(Path(tmp) / "rollcall.db", students))
    integrity = [result["integrity"] for result in results]
    return {
        "runs": runs,
        "students": students,
        "acknowledged": [result["acknowledged"] for result in results],
        "acknowledged_missing": [result["acknowledged_missing"] for result in results],
        "rows": [result["rows"] for result in results],
        "integrity": "ok" if all(value == "ok" for value in integrity) else integrity,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--students", type=int, default=STUDENTS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(child(args.child, args.students))
        return
    print(json.dumps(run(args.runs, args.students)))


if __name__ == "__main__":
    main()
