"""The background sync service's heartbeat: a small JSON file in the data directory,
replaced atomically at each beat, so `motcua doctor` and `motcua sync --status` (other
processes) can tell a running, a stalled and a stopped service apart. Nothing in it
identifies a citizen."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from desktop_app.processes import is_alive, own_mark

log = logging.getLogger(__name__)

FILE_NAME = "sync-heartbeat.json"
STALL_INTERVALS = 3  # no beat for this many worker intervals: stalled


def heartbeat_path(root: Path) -> Path:
    return root / FILE_NAME


def write_heartbeat(path: Path, data: dict[str, Any]) -> None:
    """Temp file beside it, then rename: a reader never sees half a file."""
    # The start tells this process from a later one the system gives the same pid.
    own = own_mark()
    body = {"pid": own.pid, "pid_started": own.started, "host": socket.gethostname(),
            **data}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(body, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # a full disk must not stop the sync itself
        log.warning("could not write the sync heartbeat %s: %s", path, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()


def _duration_vi(seconds: float) -> str:
    if seconds < 7200:
        return f"{seconds / 60:.0f} phút"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} giờ"
    return f"{seconds / 86400:.0f} ngày"


@dataclass(frozen=True)
class HeartbeatView:
    """What the heartbeat file says, judged: ``level`` is "ok", "warn" or "none"."""

    level: str
    message_vi: str
    data: dict[str, Any]


def read_heartbeat(root: Path, now: float | None = None) -> HeartbeatView:
    path = heartbeat_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return HeartbeatView("none", "không có dịch vụ đồng bộ nền (motcua sync) trên máy "
                             "này; giao diện tự đồng bộ khi đang mở.", {})
    except (OSError, ValueError) as exc:
        return HeartbeatView("warn", f"không đọc được tệp nhịp {path.name} "
                             f"({type(exc).__name__}).", {})
    now = time.time() if now is None else now
    beat = float(data.get("beat_at_epoch", 0.0))
    age = max(0.0, now - beat)
    data["age_s"] = round(age, 1)
    stall_after = float(data.get("stall_after_s", 180.0))
    when = datetime.fromtimestamp(beat, UTC).astimezone().strftime("%H:%M:%S %d/%m/%Y")
    same_host = data.get("host") == socket.gethostname()
    pid = int(data.get("pid", 0))
    started = data.get("pid_started")  # absent in a file written by an older version
    if data.get("state") == "stopped":
        return HeartbeatView("none", f"dịch vụ đồng bộ nền đã dừng bình thường lúc {when}.",
                             data)
    if same_host and pid and not is_alive(pid, int(started) if started else None):
        data["stalled"] = False
        return HeartbeatView("warn", f"dịch vụ đồng bộ nền (tiến trình {pid}) đã dừng bất "
                             f"thường; nhịp cuối lúc {when}. Hãy chạy lại “motcua sync”.",
                             data)
    if age > stall_after:
        data["stalled"] = True
        return HeartbeatView("warn", f"dịch vụ đồng bộ nền bị treo: không có nhịp từ {when} "
                             f"({_duration_vi(age)}). Hãy khởi động lại “motcua sync” và "
                             "gửi gói hỗ trợ cho kỹ thuật viên.", data)
    data["stalled"] = False
    if data.get("db_error"):
        return HeartbeatView("warn", f"dịch vụ đồng bộ nền đang chạy nhưng: "
                             f"{data['db_error']} (thử lại tự động).", data)
    pending = data.get("pending")
    queued = f", {pending} mục chờ gửi" if pending else ""
    return HeartbeatView("ok", f"dịch vụ đồng bộ nền đang chạy (nhịp lúc {when}{queued}).",
                         data)
