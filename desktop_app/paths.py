"""Where the data lives: the data directory, the database URL, backups and blobs."""

from __future__ import annotations

import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

from desktop_app.files import write_atomically

APP_NAME = "MotCuaOffline"


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "motcua.sqlite3"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def scan_work(self) -> Path:
        """Captured and processed pages not yet stored as PDFs. On disk, not in a temp dir:
        a batch interrupted by closing the app or a power cut is still there next time."""
        return self.root / "scan-work"

    def install_id(self, create: bool = True) -> str:
        """This PC's identity among the counters sharing a database (made once; "" when
        it does not exist yet and ``create`` is False)."""
        path = self.root / "install-id"
        try:
            value = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            value = ""
        if len(value) == 36 or not create:
            return value
        value = str(uuid.uuid4())
        write_atomically(path, value)
        return value

    def ensure(self) -> None:
        for p in (self.root, self.backups, self.blobs, self.logs, self.scan_work):
            p.mkdir(parents=True, exist_ok=True)


def default_data_dir() -> Path:
    """``MOTCUA_DATA_DIR``; else on Windows the PC's one station in ``%ProgramData%``
    (desktop_app.machine_station), elsewhere the account's own data folder."""
    env = os.environ.get("MOTCUA_DATA_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":  # pragma: no cover - Windows only
        from desktop_app.machine_station import machine_data_dir

        machine = machine_data_dir()
        if machine is not None:
            return machine
    return Path(user_data_dir(APP_NAME, appauthor=False))


# Written by `motcua provision` (0600): a LAN PostgreSQL shared by several counters.
DB_URL_FILE = Path("secrets") / "db_url"


def provisioned_db_url(root: Path) -> str:
    """``MOTCUA_DB_URL``, else the URL provisioning stored in ``root``, else ""."""
    env = os.environ.get("MOTCUA_DB_URL", "").strip()
    if env:
        return env
    try:
        return (root / DB_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def default_db_url(paths: DataPaths) -> str:
    """The one rule every entry point (the GUI and each command) opens the station by:
    ``MOTCUA_DB_URL``, else the provisioned PostgreSQL URL, else the SQLite file."""
    return provisioned_db_url(paths.root) or f"sqlite:///{paths.database}"


def has_station_data(paths: DataPaths) -> bool:
    """A provisioned (or given) database, or the SQLite file: something to open without
    creating an empty database."""
    return bool(provisioned_db_url(paths.root)) or paths.database.is_file()
