"""The last `motcua doctor` verdict on this PC, kept in ``doctor-last.json`` of the data
directory so the sync can tell the province (its fleet view) without running the doctor
again. Only the overall status and the ids of the checks that failed or warned: the
messages and details stay on the PC (they may name a printer, a path, a host).

Here rather than in `setup` (which writes it) because the sync reads it, and no service
imports `setup`."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop_app.files import write_atomically

log = logging.getLogger(__name__)

FILE_NAME = "doctor-last.json"
STATUSES = ("ok", "warn", "fail")


@dataclass(frozen=True)
class DoctorVerdict:
    status: str  # ok | warn | fail
    failing: tuple[str, ...]  # check ids, e.g. ("database_writable", "clock")
    warnings: tuple[str, ...]
    at: str  # this PC's clock when the doctor ran


def verdict_path(root: Path) -> Path:
    return root / FILE_NAME


def save_verdict(root: Path, status: str, failing: Sequence[str], warnings: Sequence[str],
                 at: str) -> None:
    """Best effort, and only into a data directory that exists (the doctor creates none):
    a read-only or full disk is the doctor's finding, not a reason to fail it."""
    if not root.is_dir():
        return
    body = {"version": 1, "status": status, "at": at, "failing": list(failing),
            "warnings": list(warnings)}
    try:
        write_atomically(verdict_path(root), json.dumps(body))
    except OSError as exc:
        log.warning("doctor verdict not kept in %s: %s", root, type(exc).__name__)


def load_verdict(root: Path) -> DoctorVerdict | None:
    """None when the doctor never ran here, or its file is unreadable."""
    try:
        data = json.loads(verdict_path(root).read_text(encoding="utf-8"))
        status = str(data["status"])
        if status not in STATUSES:
            raise ValueError("unknown status")
        return DoctorVerdict(status, tuple(str(x) for x in data.get("failing", [])),
                             tuple(str(x) for x in data.get("warnings", [])),
                             str(data.get("at", "")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("last doctor verdict unreadable: %s", type(exc).__name__)
        return None
