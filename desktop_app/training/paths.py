"""Where training data lives, and the rules that keep it apart from the station's."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.paths import default_data_dir

TRAINING_DIR_ENV = "MOTCUA_TRAINING_DIR"
SUFFIX = "-TapHuan"
# Written first into every training folder; reset deletes only a folder that has it.
MARKER = "DU-LIEU-TAP-HUAN.txt"
MARKER_TEXT = ("Thư mục dữ liệu TẬP HUẤN của Một Cửa Offline: hồ sơ, công dân và cổng tỉnh "
               "đều giả lập, không có giá trị pháp lý. Có thể xóa bất cứ lúc nào.\n")
# Secrets of a training process stay in its folder's files (wiped by a reset), never in
# the OS key store beside the station's; a station's token or database from the
# environment must never reach it.
STRIPPED_ENV = ("MOTCUA_STATION_TOKEN", "MOTCUA_DB_URL", "MOTCUA_PG_SSLROOTCERT",
                "MOTCUA_GATEWAY_DB_URL", "MOTCUA_GATEWAY_DATA", "MOTCUA_GATEWAY_ADMIN_TOKEN",
                "MOTCUA_GATEWAY_BUNDLE_IDENTITY")


class TrainingRefused(DomainError):
    """Something would mix training with the station's own data or province."""


@dataclass(frozen=True)
class TrainingPaths:
    root: Path

    @property
    def station(self) -> Path:
        """The training station's data directory (database, blobs, secrets, logs)."""
        return self.root / "station"

    @property
    def province(self) -> Path:
        return self.root / "province"

    @property
    def schedule(self) -> Path:
        return self.root / "schedule.json"

    @property
    def schedule_state(self) -> Path:
        return self.root / "schedule-state.json"

    @property
    def checklist(self) -> Path:
        return self.root / "checklist.json"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    @property
    def database_url(self) -> str:
        """Always this folder's SQLite file: never MOTCUA_DB_URL, never a LAN server."""
        return f"sqlite:///{self.station / 'motcua.sqlite3'}"

    def is_training(self) -> bool:
        return self.marker.is_file()


def training_root(station_dir: Path | None = None) -> Path:
    """``MOTCUA_TRAINING_DIR``, else the station's data directory with ``-TapHuan``
    appended, beside it (``%ProgramData%\\MotCuaOffline-TapHuan`` on a Windows counter)."""
    env = os.environ.get(TRAINING_DIR_ENV, "").strip()
    if env:
        return Path(env)
    station = (station_dir or default_data_dir()).resolve()
    return station.parent / f"{station.name}{SUFFIX}"


def _inside(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or b in a.parents


def check_apart(training: Path, station_dir: Path | None = None) -> TrainingPaths:
    """The training folder, refused when it is the station's data directory, inside it,
    or contains it (a reset would then delete the station)."""
    station = station_dir or default_data_dir()
    if _inside(training, station) or _inside(station, training):
        raise TrainingRefused(
            f"Thư mục tập huấn “{training}” không được nằm trong (hoặc chứa) thư mục dữ liệu "
            f"của quầy “{station}”. Hãy chọn thư mục khác (biến {TRAINING_DIR_ENV}).",
            f"training dir {training} overlaps the station dir {station}")
    paths = TrainingPaths(training)
    if training.is_dir() and any(training.iterdir()) and not paths.is_training():
        raise TrainingRefused(
            f"Thư mục “{training}” đã có dữ liệu khác, không phải dữ liệu tập huấn; phần mềm "
            "không dùng và không xóa nó. Hãy chọn thư mục khác.",
            f"training dir {training} is not empty and has no marker")
    return paths


def prepare_folder(paths: TrainingPaths) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    if not paths.marker.is_file():
        paths.marker.write_text(MARKER_TEXT, encoding="utf-8")


def wipe(paths: TrainingPaths) -> None:
    """Delete the training folder's contents; only ever one that carries the marker."""
    if not paths.root.exists():
        return
    if not paths.is_training():
        raise TrainingRefused(
            f"Không xóa “{paths.root}”: đây không phải thư mục dữ liệu tập huấn.",
            f"refusing to wipe {paths.root}: no training marker")
    for child in paths.root.iterdir():
        if child.name == MARKER:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def isolate_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
    """The process is a training one from now on: station secrets and databases named in
    the environment are dropped and the OS key store is not used."""
    for name in STRIPPED_ENV:
        environ.pop(name, None)
    environ["MOTCUA_NO_KEYRING"] = "1"
