"""Installing a downloaded, verified update, and when to offer it.

Windows: the NSIS setup refuses to replace files while `motcua.exe` or `motcua-gui.exe`
runs (exit 4), so the app cannot run it and wait. It starts a small detached launcher
instead and then quits::

    cmd /d /c "timeout /t 3 /nobreak >nul & start "" /wait "<setup.exe>" /S
               & start "" "<motcua-gui.exe>""      (one line)

`timeout` gives the app 3 s to exit; `start` goes through ShellExecute, so Windows asks
for administrator approval (UAC: the setup is per machine); `/wait` holds until the
setup ends, then the GUI starts again (frozen builds only). If a scheduled
`motcua sync` is running at that moment the setup refuses (exit 4, logged to
`%TEMP%\\motcua-offline-setup.log`); the verified file stays, and the offer comes back.

Linux (.deb): the app never asks for root. It shows the command for the technician:
``sudo apt install /path/to/motcua-offline_X.Y.Z_amd64.deb``.

Offering: to a technician or supervisor as soon as the file is verified ("Cài đặt ngay /
Để cuối ngày"), and to anybody who closes the app after working hours (and to whoever
chose "later")."""

from __future__ import annotations

import logging
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop_app.accounts import Role
from desktop_app.context import AppContext
from desktop_app.domain.calendar import WorkingHours
from desktop_app.sync.update_store import READY, UpdateStatus, update_status
from local_db import repositories as repo

log = logging.getLogger(__name__)

LAUNCH_DELAY_S = 3
# Roles shown the notice during the day; everybody else is asked at the end of it.
OFFER_ROLES = (Role.TECHNICIAN, Role.SUPERVISOR)


class NothingToInstall(Exception):
    pass


def offer_during_day(role: Role) -> bool:
    return role in OFFER_ROLES


def end_of_day(now: datetime, hours: WorkingHours | None = None) -> bool:
    """Closing after working hours (or at the weekend): a good time to install."""
    hours = hours or WorkingHours()
    return now.weekday() >= 5 or now.time() >= hours.afternoon_end \
        or now.time() < hours.morning_start


def ready_update(ctx: AppContext) -> UpdateStatus | None:
    status = update_status(ctx.paths.root)
    return status if status.state == READY else None


def windows_launcher(installer: Path, relaunch: Path | None) -> list[str]:
    """The detached command line that waits for the app to quit, runs the setup silently,
    then starts the app again."""
    script = (f'timeout /t {LAUNCH_DELAY_S} /nobreak >nul & start "" /wait "{installer}" /S')
    if relaunch is not None:
        script += f' & start "" "{relaunch}"'
    return ["cmd.exe", "/d", "/c", script]


def linux_command(installer: Path) -> str:
    return f"sudo apt install {shlex.quote(str(installer))}"


@dataclass(frozen=True)
class InstallStep:
    """What `start_install` did: ``launched`` (Windows: the app must now quit) or the
    ``command`` a technician runs (Linux)."""

    version: str
    launched: bool
    command: str


def start_install(ctx: AppContext, by_clerk_id: int | None = None,
                  platform: str = sys.platform) -> InstallStep:
    status = ready_update(ctx)
    if status is None:
        raise NothingToInstall("no verified update to install")
    installer = Path(status.path)
    if status.platform == "windows" and platform == "win32":  # pragma: no cover - Windows
        relaunch = (Path(sys.executable).with_name("motcua-gui.exe")
                    if getattr(sys, "frozen", False) else None)
        args = windows_launcher(installer, relaunch)
        flags = (subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
                 | subprocess.CREATE_NO_WINDOW)  # type: ignore[attr-defined]
        subprocess.Popen(args, creationflags=flags, close_fds=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        step = InstallStep(status.version, True, subprocess.list2cmdline(args))
    else:
        step = InstallStep(status.version, False, linux_command(installer))
    with ctx.db.write() as s:
        repo.add_audit(s, ctx.clock.now(), by_clerk_id, "update_install_started", "update",
                       status.version, {"platform": status.platform, "launched": step.launched})
    log.info("update %s: %s", status.version,
             "installer launched; the app quits" if step.launched
             else "install command shown to the technician")
    return step
