"""The worker's CPU priority (issue 11): exports and imports give way to the requests people
wait for, on a machine a worker shares with web processes and PostgreSQL.

`os.nice` alone is not enough on Linux kernels with autogroup scheduling
(`/proc/sys/kernel/sched_autogroup_enabled`, the default of most distributions): the
scheduler first shares the CPU fairly between *sessions*, then by niceness within each one.
PostgreSQL gives each backend its own session, and systemd each service: a worker at nice 19
alone in its session would still take as much CPU as any PostgreSQL backend serving a page.
So a worker that leads its own session (under systemd, or started with `setsid`) also sets
its session's niceness (`/proc/self/autogroup`, see sched(7)). A worker started from a shell
shares that shell's session, whose niceness is left alone (it is the user's).
"""

from __future__ import annotations

import os
from pathlib import Path

AUTOGROUP = Path("/proc/self/autogroup")


def lower_priority(nice: int, autogroup: Path = AUTOGROUP) -> dict[str, int | bool]:
    """Add `nice` to this process's niceness and, when it leads its own session and the
    kernel has autogroups, set the session's niceness to at least as much. Returns what was
    done (for the worker's start-up log)."""
    done: dict[str, int | bool] = {"nice": os.nice(nice), "autogroup": False}
    if not nice or os.getsid(0) != os.getpid():
        return done
    try:
        current = int(autogroup.read_text().rsplit("nice", 1)[1])
        if current < nice:
            autogroup.write_text(str(nice))
        done["autogroup"] = True
    except (OSError, ValueError, IndexError):  # no autogroups (or not allowed): nice alone
        pass
    return done
