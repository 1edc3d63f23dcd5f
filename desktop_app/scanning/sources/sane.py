"""SANE scanners (Linux) through the ``scanimage`` command-line frontend.

Why the CLI and not a binding: ``scanimage`` ships with every SANE install, a crashing
backend (USB drivers do crash) takes down a child process instead of the application, and
cancelling is a signal to a process group.

How a page is known to be complete: in batch mode ``scanimage`` writes ``name.part`` and
renames it to ``name`` when the page is finished, then prints the name on stdout
(``--batch-print``). Only printed names are yielded; anything else left behind when the
process stops (a ``.part`` file, an unprinted page) is removed."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    CapturedFile,
    ScanProfile,
)
from desktop_app.scanning.sources.base import (
    DISK_RESERVE_BYTES,
    CaptureError,
    CaptureFailed,
    CaptureProgress,
    CaptureSource,
    CoverOpen,
    DeviceInfo,
    DiskFull,
    FeederEmpty,
    PaperJam,
    ProgressFn,
    ScannerBusy,
    ScannerDisappeared,
    ScannerUnavailable,
    ensure_room,
    estimate_page_bytes,
    image_dpi,
    report,
)
from desktop_app.scanning.sources.sane_options import (
    DeviceOptions,
    PaperSource,
    ScanPlan,
    parse_device_list,
    parse_options,
    plan_scan,
)

log = logging.getLogger(__name__)

LIST_TIMEOUT_S = 60.0  # network scanner discovery (escl, airscan) can take a while
OPTIONS_TIMEOUT_S = 60.0
STOP_GRACE_S = 2.0
# Some drivers (the SANE test backend among them, now and then) hang while closing the
# device after the batch has ended and every page is written: wait this long, then kill.
TEARDOWN_GRACE_S = 2.0
# No byte from scanimage for this long means a hung driver. Generous: a lamp warming up
# or a large-format device positioning its paper prints nothing for a while.
STALL_TIMEOUT_S = 180.0
_POLL_S = 0.1


# --- errors from scanimage -------------------------------------------------------------------


def classify_failure(stderr: str, returncode: int, pages_kept: int, device: str) -> CaptureError:
    """Turn the end of a failed ``scanimage`` run into the precise error for the clerk."""
    low = stderr.lower()
    detail = f"scanimage -d {device} exited {returncode}: {_tail(stderr)}"
    if "open of device" in low and "failed" in low:
        if "busy" in low:
            return _busy(device, detail)
        return ScannerUnavailable(
            f"Không mở được máy quét “{device}”. Hãy kiểm tra máy quét đã bật, đã cắm cáp "
            "và có tên trong danh sách thiết bị, rồi thử lại.", detail)
    if "jammed" in low:
        return PaperJam(pages_kept, detail)
    if "out of documents" in low or "no more documents" in low:
        return FeederEmpty(detail)
    if "cover is open" in low:
        return CoverOpen(pages_kept, detail)
    if "no space left" in low:
        return DiskFull(0, 0, pages_kept, detail)
    if "device busy" in low:
        return _busy(device, detail)
    if "access to resource has been denied" in low:
        return ScannerUnavailable(
            f"Không có quyền dùng máy quét “{device}”. Hãy báo kỹ thuật viên cấp quyền "
            "(nhóm “scanner”) cho tài khoản máy tính này.", detail, pages_kept)
    if returncode < 0 or "error during device i/o" in low:
        return ScannerDisappeared(pages_kept, detail)
    return CaptureFailed(
        f"Máy quét báo lỗi và dừng lại. Đã giữ lại {pages_kept} trang quét xong. "
        "Hãy thử lại; nếu vẫn lỗi, báo kỹ thuật viên.", detail, pages_kept)


def _busy(device: str, detail: str) -> ScannerBusy:
    return ScannerBusy(
        f"Máy quét “{device}” đang bận (một chương trình hoặc máy tính khác đang dùng). "
        "Hãy đợi một lát rồi thử lại.", detail)


def _tail(text: str, limit: int = 600) -> str:
    text = " | ".join(line for line in re.split(r"[\r\n]+", text) if line.strip()
                      and not line.startswith("Progress:"))
    return text[-limit:]


# --- the source ------------------------------------------------------------------------------


class SaneSource(CaptureSource):
    name = "sane"
    label_vi = "Máy quét"

    def __init__(self, device: str | None = None, *, paper: PaperSource = "auto",
                 scanimage: str = "scanimage", extra_args: Sequence[str] = (),
                 env: Mapping[str, str] | None = None,
                 reserve_bytes: int = DISK_RESERVE_BYTES,
                 stall_timeout_s: float = STALL_TIMEOUT_S) -> None:
        """``paper``: glass or feeder (``auto`` prefers the feeder when the device has
        one). ``extra_args`` are appended to every scan (device-specific options a
        technician sets, or the test driver's knobs); ``env`` replaces the environment
        (e.g. a ``SANE_CONFIG_DIR``)."""
        self.device = device
        self.paper: PaperSource = paper
        self.scanimage = scanimage
        self.extra_args = list(extra_args)
        self.env = dict(env) if env is not None else None
        self.reserve_bytes = reserve_bytes
        self.stall_timeout_s = stall_timeout_s

    def available(self) -> bool:
        return os.name != "nt" and self._executable() is not None

    def for_device(self, device_id: str) -> SaneSource:
        return SaneSource(device_id, paper=self.paper, scanimage=self.scanimage,
                          extra_args=self.extra_args, env=self.env,
                          reserve_bytes=self.reserve_bytes,
                          stall_timeout_s=self.stall_timeout_s)

    def _executable(self) -> str | None:
        return shutil.which(self.scanimage)

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        exe = self._executable()
        if exe is None:
            raise ScannerUnavailable(
                "Máy tính này chưa cài phần mềm máy quét SANE (gói sane-utils). Hãy báo kỹ "
                "thuật viên cài đặt.", f"{self.scanimage!r} not found on PATH")
        try:
            return subprocess.run([exe, *args], capture_output=True, text=True,
                                  timeout=timeout, env=self.env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ScannerUnavailable(
                "Máy quét không phản hồi. Hãy tắt rồi bật lại máy quét và thử lại.",
                f"scanimage {' '.join(args)} timed out after {timeout}s") from exc

    def list_devices(self) -> list[DeviceInfo]:
        done = self._run(["-f", "%d\t%v\t%m\t%t%n"], LIST_TIMEOUT_S)
        if done.returncode != 0:
            raise ScannerUnavailable(
                "Không liệt kê được máy quét. Hãy kiểm tra máy quét rồi thử lại.",
                f"scanimage -f exited {done.returncode}: {_tail(done.stderr)}")
        return parse_device_list(done.stdout)

    def device_options(self, device: str) -> DeviceOptions:
        """Open the device once to learn what it accepts; also proves it exists."""
        done = self._run(["-d", device, "-A"], OPTIONS_TIMEOUT_S)
        if done.returncode != 0:
            raise classify_failure(done.stderr, done.returncode, 0, device)
        return parse_options(done.stdout)

    def _device(self) -> str:
        if self.device:
            return self.device
        devices = self.list_devices()
        if not devices:
            raise ScannerUnavailable(
                "Không tìm thấy máy quét nào. Hãy bật máy quét, cắm cáp USB (hoặc mạng) rồi "
                "thử lại.", "scanimage -f listed no device")
        return devices[0].id

    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        device = self._device()
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest_dir = dest_dir.resolve()  # scanimage prints names as given; compare absolutes
        # A source opened for the glass or the feeder wins over the profile's preference.
        paper = self.paper if self.paper != "auto" else profile.paper
        plan = plan_scan(profile, self.device_options(device), paper)  # type: ignore[arg-type]
        page_bytes = estimate_page_bytes(profile, plan.size_mm)
        ensure_room(dest_dir, page_bytes, 0, self.reserve_bytes)
        if plan.dpi != profile.dpi:
            log.info("%s: %d dpi asked, device scans at %d dpi", device, profile.dpi, plan.dpi)
        run = _BatchRun(self, device, plan, dest_dir, page_bytes, cancel, progress)
        yield from run.pages()


class _BatchRun:
    """One ``scanimage --batch`` process and the bookkeeping of its pages."""

    def __init__(self, source: SaneSource, device: str, plan: ScanPlan, dest_dir: Path,
                 page_bytes: int, cancel: CancelToken | None, progress: ProgressFn | None
                 ) -> None:
        self.source = source
        self.device = device
        self.plan = plan
        self.dest_dir = dest_dir
        self.page_bytes = page_bytes
        self.cancel = cancel
        self.progress = progress
        # A unique prefix per run: the work directory is shared by successive batches.
        self.prefix = f"sane-{uuid.uuid4().hex[:8]}-page-"
        self.yielded: set[Path] = set()
        self.stderr_text = ""
        self.current_page = 0
        self.last_output = time.monotonic()
        self.batch_over_at: float | None = None
        self.hung_at_exit = False
        self.stalled = False

    def command(self) -> list[str]:
        exe = self.source._executable()
        assert exe is not None  # checked by device_options()
        pattern = str(self.dest_dir / f"{self.prefix}%04d.tiff").replace("%", "%%")
        pattern = pattern.replace("%%04d", "%04d")
        return [exe, "-d", self.device, "--format=tiff", f"--batch={pattern}",
                "--batch-print", "--progress", *self.plan.args, *self.source.extra_args]

    def pages(self) -> Iterator[CapturedFile]:
        proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.source.env,
                                start_new_session=True)  # its own group: cancel kills all
        try:
            yield from self._pump(proc)
            rc = self._wait_exit(proc)
            if self.stalled:
                raise ScannerDisappeared(
                    len(self.yielded), f"scanimage -d {self.device} printed nothing for "
                    f"{self.source.stall_timeout_s:g}s: {_tail(self.stderr_text)}")
            if self.hung_at_exit:
                rc = self._status_from_messages()
            if rc != 0:
                raise classify_failure(self.stderr_text, rc, len(self.yielded), self.device)
            if not self.yielded:
                raise self._nothing_scanned()
        finally:
            self._stop(proc)
            self._remove_leftovers()

    def _pump(self, proc: subprocess.Popen[bytes]) -> Iterator[CapturedFile]:
        assert proc.stdout is not None and proc.stderr is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        out_buf = b""
        try:
            while sel.get_map():
                self._check_cancel(proc)
                self._check_watchdogs(proc)
                for key, _ in sel.select(timeout=_POLL_S):
                    data = os.read(key.fd, 65536)
                    self.last_output = time.monotonic()
                    if not data:
                        sel.unregister(key.fileobj)
                    elif key.data == "err":
                        self._on_stderr(data.decode("utf-8", "replace"))
                    else:
                        out_buf += data
                *lines, out_buf = out_buf.split(b"\n")
                for line in lines:
                    captured = self._completed(line.decode("utf-8", "replace").strip())
                    if captured is not None:
                        yield captured
                        self.last_output = time.monotonic()  # the consumer's time is not a stall
                        self._check_room(proc)
        finally:
            sel.close()

    def _check_cancel(self, proc: subprocess.Popen[bytes]) -> None:
        if self.cancel is not None and self.cancel.cancelled:
            self._stop(proc)
            raise CancelledError(f"scan on {self.device} cancelled after "
                                 f"{len(self.yielded)} pages")

    def _wait_exit(self, proc: subprocess.Popen[bytes]) -> int:
        try:
            return proc.wait(timeout=TEARDOWN_GRACE_S)
        except subprocess.TimeoutExpired:
            log.warning("scanimage -d %s closed its output but did not exit; killing it",
                        self.device)
            self.hung_at_exit = True
            _kill_group(proc, signal.SIGKILL)
            return proc.wait()

    def _check_watchdogs(self, proc: subprocess.Popen[bytes]) -> None:
        """Kill a scanimage that hangs after its batch ended or stopped printing anything.
        Only the process is killed: its pipes then reach end-of-file and the loop ends."""
        if proc.poll() is not None:
            return
        now = time.monotonic()
        if self.batch_over_at is not None and now - self.batch_over_at > TEARDOWN_GRACE_S:
            log.warning("scanimage -d %s hung after the batch ended; killing it", self.device)
            self.hung_at_exit = True
            _kill_group(proc, signal.SIGKILL)
        elif now - self.last_output > self.source.stall_timeout_s:
            log.warning("scanimage -d %s silent for %.0fs; killing it", self.device,
                        now - self.last_output)
            self.stalled = True
            _kill_group(proc, signal.SIGKILL)

    def _status_from_messages(self) -> int:
        """The exit status scanimage would have returned: non-zero when it reported an
        error other than the feeder running out (the normal end of an ADF batch)."""
        errors = [m for m in re.findall(r"scanimage: (sane_\w+: .*)", self.stderr_text)
                  if "out of documents" not in m.lower()]
        return 1 if errors else 0

    def _check_room(self, proc: subprocess.Popen[bytes]) -> None:
        try:
            ensure_room(self.dest_dir, self.page_bytes, len(self.yielded),
                        self.source.reserve_bytes)
        except DiskFull:
            self._stop(proc)
            raise

    def _on_stderr(self, text: str) -> None:
        self.stderr_text += text
        if "Batch terminated" in self.stderr_text and self.batch_over_at is None:
            self.batch_over_at = time.monotonic()
        for piece in re.split(r"[\r\n]+", text):
            m = re.match(r"Scanning page (\d+)", piece)
            if m:
                self.current_page = len(self.yielded) + 1
                self._report(0.0, f"Đang quét trang {self.current_page}…")
                continue
            m = re.match(r"Progress: ([\d.]+)%", piece)
            if m:
                fraction = min(float(m.group(1)) / 100, 1.0)
                self._report(fraction, f"Đang quét trang {self.current_page}…")
            elif piece.startswith("scanimage:"):
                log.info("%s: %s", self.device, piece)

    def _report(self, fraction: float, text: str) -> None:
        report(self.progress, CaptureProgress(max(self.current_page, 1), fraction,
                                              len(self.yielded), text))

    def _completed(self, line: str) -> CapturedFile | None:
        if not line:
            return None
        path = Path(line)
        if not path.is_absolute():
            path = Path.cwd() / path
        if path.parent != self.dest_dir or not path.name.startswith(self.prefix):
            log.debug("ignoring scanimage output line %r", line)
            return None
        if not path.is_file() or path.stat().st_size == 0:
            log.warning("scanimage reported %s but it is missing or empty", path)
            return None
        self.yielded.add(path)
        n = len(self.yielded)
        side = "back" if self.plan.duplex and n % 2 == 0 else "front"
        self._report(1.0, f"Đã quét xong {n} trang.")
        return CapturedFile(path=path, source=f"sane:{self.device}",
                            dpi=image_dpi(path) or self.plan.dpi, side=side,
                            original_name=path.name)

    def _nothing_scanned(self) -> CaptureError:
        """``scanimage`` exits 0 when the feeder is already empty at the first page."""
        detail = f"scanimage -d {self.device} exited 0 with no page: {_tail(self.stderr_text)}"
        if self.plan.feeder:
            return FeederEmpty(detail)
        return CaptureFailed("Máy quét không trả về trang nào. Hãy thử quét lại.", detail)

    def _stop(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None:
            _close_pipes(proc)
            return
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
            _kill_group(proc, sig)
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        _close_pipes(proc)

    def _remove_leftovers(self) -> None:
        """Whatever this run wrote but did not yield is incomplete (or unwanted after a
        cancel): remove it so nothing half-written is ever picked up."""
        for path in self.dest_dir.glob(f"{self.prefix}*"):
            if path not in self.yielded:
                with contextlib.suppress(OSError):
                    path.unlink()


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()


__all__ = [
    "SaneSource",
    "classify_failure",
]
