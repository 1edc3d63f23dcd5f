"""What this PC holds of the update channel, under ``DATA_DIR/updates/``: the partial
download (``<name>.part`` and its ``.part.json``: which release, how many bytes are
fsynced), the verified installer, and ``state.json`` (ready / refused). Per PC, not in
the database: the file is this machine's, even when counters share a LAN database.

`update_status` is what the GUI, `motcua doctor` and the fleet heartbeat read."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from desktop_app.files import write_atomically

log = logging.getLogger(__name__)

UPDATES_DIR = "updates"
STATE_FILE = "state.json"

NONE, DOWNLOADING, READY, REFUSED = "none", "downloading", "ready", "refused"

REFUSED_VI = {
    "signature": "chữ ký không hợp lệ (không đúng khóa phát hành của tỉnh)",
    "hash": "tệp tải về không khớp mã SHA-256 đã ký",
}


def this_platform() -> str:
    """The installer kind this PC takes: the NSIS setup on Windows, the .deb elsewhere."""
    return "windows" if sys.platform == "win32" else "linux-deb"


def installer_name(version: str, platform: str) -> str:
    """Our own name for the file (never the publisher's: no path comes from the wire)."""
    if platform == "windows":
        return f"motcua-offline-{version}-setup.exe"
    return f"motcua-offline_{version}_amd64.deb"


@dataclass(frozen=True)
class UpdateStatus:
    state: str = NONE  # none | downloading | ready | refused
    version: str = ""
    platform: str = ""
    sha256: str = ""
    size: int = 0
    downloaded: int = 0  # bytes fsynced in the .part (downloading)
    path: str = ""  # the verified installer (ready)
    at: str = ""  # ISO time of the last change
    # The last refused release, reported even while an earlier verified one waits.
    refused_version: str = ""
    refused_sha256: str = ""
    refused_reason: str = ""  # signature | hash
    refused_at: str = ""

    @property
    def message_vi(self) -> str:
        if self.state == READY:
            return (f"Có bản cập nhật {self.version} đã tải và kiểm tra chữ ký — sẵn sàng "
                    "cài đặt.")
        if self.state == DOWNLOADING:
            pct = self.downloaded * 100 // self.size if self.size else 0
            return f"Đang tải bản cập nhật {self.version} ({pct}%)."
        return self.refusal_vi

    @property
    def refusal_vi(self) -> str:
        if not self.refused_version:
            return ""
        why = REFUSED_VI.get(self.refused_reason, self.refused_reason)
        return (f"Bản cập nhật {self.refused_version} tải từ hệ thống tỉnh bị từ chối: {why}. "
                "Tệp đã bị xóa, không cài đặt. Hãy báo kỹ thuật viên của tỉnh.")

    def to_dict(self) -> dict[str, Any]:
        """For the heartbeat and `motcua doctor --json` (no secret, no personal data)."""
        return {**asdict(self), "message_vi": self.message_vi}


class UpdateStore:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / UPDATES_DIR

    @property
    def state_file(self) -> Path:
        return self.dir / STATE_FILE

    def installer(self, version: str, platform: str) -> Path:
        return self.dir / installer_name(version, platform)

    def part(self, version: str, platform: str) -> Path:
        return self.dir / (installer_name(version, platform) + ".part")

    def part_info(self, part: Path) -> Path:
        return part.with_name(part.name + ".json")

    # --- state.json ------------------------------------------------------------------------

    def read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, data: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomically(self.state_file, json.dumps(data, ensure_ascii=False, indent=1))

    def record(self, kind: str, release: dict[str, Any] | None) -> None:
        """Set (or, with None, forget) the ``ready`` or ``refused`` record."""
        data = self.read()
        if release is None:
            data.pop(kind, None)
        else:
            data[kind] = release
        self.write(data)

    def ready(self) -> dict[str, Any]:
        value = self.read().get(READY)
        return value if isinstance(value, dict) else {}

    def refused(self) -> dict[str, Any]:
        value = self.read().get(REFUSED)
        return value if isinstance(value, dict) else {}

    # --- the partial download ------------------------------------------------------------

    def resume_offset(self, part: Path, release: dict[str, Any]) -> int:
        """Bytes of ``part`` known to be on disk for this very release; a part of another
        release (or without its note) is dropped."""
        info = self.part_info(part)
        try:
            note = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            note = None
        same = isinstance(note, dict) and all(note.get(k) == release[k] for k in release)
        if not same or not part.exists():
            self.drop_part(part)
            return 0
        offset = int(note.get("offset", 0)) if isinstance(note, dict) else 0
        size = part.stat().st_size
        if size < offset:  # the note ran ahead of the data (cannot happen: fsync first)
            offset = 0
        if size != offset:
            with part.open("r+b") as f:  # bytes after the last fsynced note are not trusted
                f.truncate(offset)
        return offset

    def note_offset(self, part: Path, release: dict[str, Any], offset: int) -> None:
        write_atomically(self.part_info(part), json.dumps({**release, "offset": offset}))

    def drop_part(self, part: Path) -> None:
        for path in (part, self.part_info(part)):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)

    def drop_release(self, version: str, platform: str) -> None:
        """The files of one release: its partial download and its installer."""
        part = self.part(version, platform)
        self.drop_part(part)
        with contextlib.suppress(OSError):
            self.installer(version, platform).unlink(missing_ok=True)

    def drop_all(self, keep: Path | None = None) -> None:
        """Every installer and partial file here but ``keep``."""
        if not self.dir.is_dir():
            return
        for path in self.dir.iterdir():
            if path.name != STATE_FILE and path != keep and path.is_file():
                with contextlib.suppress(OSError):
                    path.unlink()


def update_status(data_dir: Path) -> UpdateStatus:
    """The update channel's state on this PC, for the GUI, doctor and the heartbeat."""
    store = UpdateStore(data_dir)
    refused = store.refused()
    about_refusal = {"refused_version": str(refused.get("version", "")),
                     "refused_sha256": str(refused.get("sha256", "")),
                     "refused_reason": str(refused.get("reason", "")),
                     "refused_at": str(refused.get("at", ""))} if refused else {}
    ready = store.ready()
    if ready and Path(str(ready.get("path", ""))).is_file():
        return UpdateStatus(state=READY, version=str(ready.get("version", "")),
                            platform=str(ready.get("platform", "")),
                            sha256=str(ready.get("sha256", "")),
                            size=int(ready.get("size", 0)), path=str(ready["path"]),
                            at=str(ready.get("at", "")), **about_refusal)
    # A download in progress: the note beside a .part.
    notes = sorted(store.dir.glob("*.part.json")) if store.dir.is_dir() else []
    for info in notes:
        try:
            note = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        return UpdateStatus(state=DOWNLOADING, version=str(note.get("version", "")),
                            platform=str(note.get("platform", "")),
                            sha256=str(note.get("sha256", "")), size=int(note.get("size", 0)),
                            downloaded=int(note.get("offset", 0)), **about_refusal)
    if refused:
        return UpdateStatus(state=REFUSED, version=about_refusal["refused_version"],
                            sha256=about_refusal["refused_sha256"],
                            platform=str(refused.get("platform", "")),
                            size=int(refused.get("size", 0)), at=about_refusal["refused_at"],
                            **about_refusal)
    return UpdateStatus()
