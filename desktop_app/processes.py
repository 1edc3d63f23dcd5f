"""Is the process that left a file or a lease still running?

Temporary files, outbox leases and the sync heartbeat name the process that made them,
so a later start can clean up after one that was killed. The test is psutil's, never
``os.kill(pid, 0)``: on Windows signal 0 is CTRL_C_EVENT, which interrupts a console
process group instead of testing a pid.

A mark is ``pid-start``, so a pid the system has since given to another process does
not pass for the old one; a mark with the pid only (written before the start was
recorded) is judged by the pid alone. The start is, on Linux, the kernel's start time in
clock ticks since boot (psutil turns it into wall-clock time through the boot time,
which moves when the clock is stepped — as a technician does on a PC whose clock is
off — and would make every running process look replaced); elsewhere the creation time
in whole seconds since the epoch, which Windows and macOS record as such.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

_LINUX = sys.platform.startswith("linux")
# Seconds since the epoch are rounded down when recorded: one second either way.
START_SLACK = 0 if _LINUX else 1
TEMP_PREFIX = ".tmp-"

_own: dict[int, int | None] = {}  # keyed by pid: a forked child is another process


@dataclass(frozen=True)
class ProcessMark:
    pid: int
    started: int | None = None  # None: an older mark with the pid only

    def __str__(self) -> str:
        return str(self.pid) if self.started is None else f"{self.pid}-{self.started}"

    @classmethod
    def parse(cls, text: str) -> ProcessMark | None:
        """``pid`` or ``pid-start``; None for anything else."""
        pid, _, started = text.partition("-")
        if not pid.isdigit() or (started and not started.isdigit()):
            return None
        return cls(int(pid), int(started) if started else None)

    def alive(self) -> bool:
        return is_alive(self.pid, self.started)


def start_time(pid: int) -> int | None:
    """When ``pid`` started (see the module's note on the unit); None if unknown."""
    if _LINUX:
        try:
            stat = Path(f"/proc/{pid}/stat").read_bytes()
            # Field 22 (starttime); the command name before ")" may hold spaces.
            return int(stat.rsplit(b")", 1)[1].split()[19])
        except (OSError, IndexError, ValueError):
            return None
    try:
        return int(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def own_mark() -> ProcessMark:
    pid = os.getpid()
    if pid not in _own:
        _own[pid] = start_time(pid)
    return ProcessMark(pid, _own[pid])


def is_alive(pid: int, started: int | None = None) -> bool:
    """True while ``pid`` runs (and, if ``started`` is given, is the process that started
    then). A zombie is dead; another user's process (access denied) counts as alive."""
    if pid <= 0:  # 0 is the process group (POSIX) or the idle process (Windows)
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if started is not None:
            now = start_time(pid)
            if now is None:
                proc.status()  # gone meanwhile: NoSuchProcess; otherwise cannot tell
            elif abs(now - started) > START_SLACK:
                return False  # the pid was given to a newer process
    except psutil.NoSuchProcess:  # ZombieProcess included
        return False
    except (psutil.Error, OSError):  # access denied (another user's) or cannot tell
        return True
    return True


def temp_prefix() -> str:
    """``.tmp-pid-start-``: the pid stays the second field, as in names without a start."""
    return f"{TEMP_PREFIX}{own_mark()}-"


def temp_owner(name: str) -> ProcessMark | None:
    """The process a temporary file's name carries: ``.tmp-pid-start-rest`` or the older
    ``.tmp-pid-rest``; None if the name carries none."""
    if not name.startswith(TEMP_PREFIX):
        return None
    parts = name[len(TEMP_PREFIX):].split("-")
    if len(parts) < 2 or not parts[0].isdigit():
        return None
    if len(parts) >= 3 and parts[1].isdigit():
        return ProcessMark(int(parts[0]), int(parts[1]))
    return ProcessMark(int(parts[0]))
