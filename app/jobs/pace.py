"""Pacing of long background jobs (issue 11): a job that may be active only a share of the
wall-clock time sleeps, at each progress tick, in proportion to the time it has worked since
the previous one (as PostgreSQL paces a vacuum with `vacuum_cost_delay`). Unlike a lower
CPU priority, this also bounds the work the job gives PostgreSQL (its queries and their
results), which runs at the priority of any other backend.

`PALIER_JOB_DUTY_CYCLE` (default 1: no pause): 0.5 doubles an export's duration and halves
its load on the cores it shares with web processes and PostgreSQL; on dedicated worker
machines leave it at 1. Only what lies between ticks is paced: a shortlist XLSX's first pass
over the domain scores (it picks the sheet's columns) and the storage of the finished file
run at full speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class Pacer:
    """Keeps a job active at most `share` (0 < share ≤ 1) of the wall-clock time between
    two ticks."""

    def __init__(self, share: float, *, clock: Callable[[], float] | None = None,
                 sleep: Callable[[float], None] | None = None, longest: float = 5.0) -> None:
        if not 0 < share <= 1:
            raise ValueError("the duty cycle is in (0, 1]")
        self.share, self.longest = share, longest
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.last = self.clock()
        self.paused = 0.0  # seconds slept so far

    def tick(self) -> None:
        """Called as the job progresses: pause for what its share leaves of the time worked
        since the previous tick (at most `longest` seconds at once)."""
        if self.share >= 1:
            return
        worked = self.clock() - self.last
        pause = min(self.longest, worked * (1 - self.share) / self.share)
        if pause > 0:
            self.sleep(pause)
            self.paused += pause
        self.last = self.clock()
