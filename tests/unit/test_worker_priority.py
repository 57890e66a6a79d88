"""app/jobs/priority.py: the worker's niceness, and its session's where it leads one. Each case
runs in a child process (niceness cannot be taken back), against a stand-in for
/proc/self/autogroup whose text is the kernel's ("/autogroup-85 nice 0")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import json, sys
from pathlib import Path
from app.jobs.priority import lower_priority
print(json.dumps(lower_priority(int(sys.argv[1]), Path(sys.argv[2]))))
"""


def _run(nice: int, autogroup: Path, own_session: bool) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(nice), str(autogroup)], cwd=ROOT,
                         capture_output=True, text=True, check=True,
                         start_new_session=own_session)
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize(("text", "nice", "own_session", "after", "autogroup"), [
    # leading its session: the session's niceness raised to the worker's
    ("/autogroup-85 nice 0\n", 10, True, "10", True),
    # already nicer than asked: left as it is
    ("/autogroup-85 nice 15\n", 10, True, "/autogroup-85 nice 15\n", True),
    # started from a shell (the shell's session): untouched
    ("/autogroup-85 nice 0\n", 10, False, "/autogroup-85 nice 0\n", False),
    # 0: nothing lowered at all
    ("/autogroup-85 nice 0\n", 0, True, "/autogroup-85 nice 0\n", False),
    # not the kernel's text: niceness alone
    ("garbage\n", 10, True, "garbage\n", False),
])
def test_lower_priority(tmp_path: Path, text: str, nice: int, own_session: bool, after: str,
                        autogroup: bool) -> None:
    stand_in = tmp_path / "autogroup"
    stand_in.write_text(text)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    done = _run(nice, stand_in, own_session)
    assert done == {"nice": min(own + nice, 19), "autogroup": autogroup}
    assert stand_in.read_text() == after


def test_no_autogroup_file(tmp_path: Path) -> None:
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert _run(5, tmp_path / "absent", True) == {"nice": min(own + 5, 19), "autogroup": False}
