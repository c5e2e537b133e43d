"""APScheduler wiring. Rows are the truth; jobs only wake the code that reads them.

Each feature registers a *runner* under a kind: an async function that, given the id of the
row its job was woken for and `now`, re-reads that row and acts only if it is still due,
marking it done in the same transaction. A job (`<kind>:<row id>`) calls its runner with its
own row id at the right moment, so one session's code change never rescans the others.
`run_due()` runs every job due at the clock's now, which is how tests and benches drive time.

Several processes may run jobs on one database (shard processes on PostgreSQL, or the same
shard started twice by mistake), so every runner follows two rules:

* Rebuild only your own rows. At start-up a feature schedules the rows of the guilds this
  process serves (`owns_guild`, the shard rule of `bot/shards.py`), and no others.
* Claim before acting. A runner that is about to act on Discord first wins its row with one
  conditional write that only one process can win, and acts only if it won:
  `UPDATE … SET <done or claimed marker> = ? WHERE id = ? AND <still due> RETURNING id`
  (a row count of 1 says the same). The loser does nothing. Today: the timed close
  (`UPDATE attendance_session SET status = 'closed' … WHERE status = 'open'`), the code
  rotation (`shown_window` moves forward only: `… SET shown_window = ? WHERE shown_window < ?`)
  and owed messages (`claimed_until`, which also expires by itself when the claimer dies).
  Reading the row first and writing after acting is not enough: two processes both read it
  as due. A new job kind (event reminders, kick deadlines) adds its own claim the same way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.shards import ShardSet

log = logging.getLogger(__name__)

Runner = Callable[[int, datetime], Awaitable[None]]
DRAIN_TIMEOUT_SECONDS = 10.0


class JobScheduler:
    def __init__(self, clock: Clock, *, live: bool, shards: ShardSet | None = None) -> None:
        self._clock = clock
        self.shards = shards or ShardSet.every()
        # With an injected clock APScheduler would still read the wall clock, so it stays
        # paused: jobs are registered (and inspectable) but time is driven by run_due().
        self.live = live
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._runners: dict[str, Runner] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._running: set[asyncio.Task[object]] = set()

    def register(self, kind: str, runner: Runner) -> None:
        self._runners[kind] = runner
        self._locks[kind] = asyncio.Lock()

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process rebuilds and runs the jobs of `guild_id`'s rows (see the module's rules)."""
        return self.shards.owns_guild(guild_id)

    def start(self) -> None:
        """Start paused: jobs that need guilds and members must wait for the gateway's READY."""
        if not self._scheduler.running:
            self._scheduler.start(paused=True)

    def resume(self) -> None:
        if self.live and self._scheduler.running:
            self._scheduler.resume()

    def wakeup(self) -> None:
        """Re-check due jobs now (after the wall clock jumped, as in the wiring test)."""
        self._scheduler.wakeup()

    async def stop(self) -> None:
        """Fire nothing new, let the jobs already running finish (`drain`), then shut down.
        APScheduler's shutdown cancels the tasks of jobs still running, so it comes last: a
        close report mid-delivery would otherwise be cut off between its send and its commit."""
        if self._scheduler.running:
            self._scheduler.pause()
        await self.drain()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def schedule_at(self, kind: str, row_id: int, when: datetime) -> None:
        """Wake `kind`'s runner for `row_id` at `when`; a past `when` runs as soon as the scheduler can."""
        self._scheduler.add_job(
            self.run_kind,
            "date",
            run_date=when,
            args=[kind, row_id],
            id=f"{kind}:{row_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    def schedule_every(
        self, kind: str, row_id: int, seconds: int, start: datetime, *, first_run: datetime | None = None
    ) -> None:
        """Wake `kind`'s runner for `row_id` every `seconds` from `start`; `first_run` adds an
        earlier first wake."""
        extra = {"next_run_time": first_run} if first_run is not None else {}
        self._scheduler.add_job(
            self.run_kind,
            "interval",
            seconds=seconds,
            start_date=start,
            args=[kind, row_id],
            id=f"{kind}:{row_id}",
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=None,
            **extra,
        )

    def cancel(self, kind: str, row_id: int) -> None:
        job = self._scheduler.get_job(f"{kind}:{row_id}")
        if job is not None:
            job.remove()

    def pending(self, kind: str, row_id: int) -> bool:
        return self._scheduler.get_job(f"{kind}:{row_id}") is not None

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self._scheduler.get_jobs())

    async def run_kind(self, kind: str, row_id: int, now: datetime | None = None) -> None:
        """Run one kind's runner for one row. Exceptions are logged here because nobody awaits a job."""
        moment = now or self._clock.now()
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            async with self._locks[kind]:
                try:
                    await self._runners[kind](row_id, moment)
                except Exception:
                    log.exception("Scheduled job %s:%s failed at %s", kind, row_id, moment.isoformat())
        finally:
            if task is not None:
                self._running.discard(task)

    async def drain(self, timeout: float = DRAIN_TIMEOUT_SECONDS) -> None:
        """Let jobs already running finish (a close report half-delivered, a rotation mid-edit)
        before the bot closes its connections; one still running after `timeout` is cancelled and
        its row makes it run again after the restart."""
        running = {task for task in self._running if task is not asyncio.current_task()}
        if not running:
            return
        _, stuck = await asyncio.wait(running, timeout=timeout)
        for task in stuck:
            log.warning("Scheduled job %s still running at shutdown; it runs again after the restart", task.get_name())
            task.cancel()

    async def run_due(self) -> None:
        """Run, once, every job due at the clock's now: each one-off job whose time has come
        (taken off first, as APScheduler does when it fires one, so its runner may schedule the
        same id again) and each repeating job, whose runner decides from its row whether anything
        is due. Kinds run in the order they were registered."""
        now = self._clock.now()
        due: list[tuple[str, int]] = []
        for job in self._scheduler.get_jobs():
            kind, row_id = job.args
            if isinstance(job.trigger, DateTrigger):
                if job.trigger.run_date > now:
                    continue
                job.remove()
            due.append((kind, row_id))
        order = {kind: index for index, kind in enumerate(self._runners)}
        for kind, row_id in sorted(due, key=lambda item: (order[item[0]], item[1])):
            await self.run_kind(kind, row_id, now)
