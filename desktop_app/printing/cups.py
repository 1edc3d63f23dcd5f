"""Printing through CUPS (Linux, macOS): the slip PDF itself is the job.

CUPS converts PDF natively (its filters rasterise for the printer's driver, page by page,
outside this process), so what the app spools is the PDF reportlab made — tens of KB
instead of a 133 MB bitmap per page. The PDF goes to ``lp`` on its standard input, so no
copy of the citizen's data is written to a temporary file by us.

``lp`` runs in the C locale so its messages can be recognised; each failure becomes a
typed error with a Vietnamese message and the exact ``lp`` output in the log."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Mapping

from desktop_app.printing.errors import JobRefused, PrinterNotFound, PrintError, PrintServiceDown
from desktop_app.printing.job import Control, PrintJob, PrintOutcome
from desktop_app.printing.pdf_pages import page_count

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"request id is (\S+)")
# lp's messages (CUPS 2.x, C locale) for the failures the clerk can act on.
_NOT_FOUND = ("does not exist", "not found", "unknown destination", "no such destination")
_DOWN = ("scheduler is not running", "unable to connect", "connection refused",
         "bad file descriptor", "no such file or directory", "network is unreachable",
         "timed out")
_REFUSED = ("not accepting jobs",)
_NO_DEFAULT = ("no default destination",)


def cups_available(lp: str = "lp") -> bool:
    """Whether the CUPS client is installed (the server may still be down)."""
    return shutil.which(lp) is not None


def lp_command(job: PrintJob) -> list[str]:
    """The ``lp`` arguments for ``job``: the PDF at 100 % on the chosen paper, collated."""
    args = ["-n", str(job.copies), "-o", f"media={job.paper}",
            # A legal form prints at its own size: never scaled to the printable area.
            "-o", "print-scaling=none", "-o", "fit-to-page=false",
            # Two copies of a two-page slip come out as 1,2,1,2, each copy whole.
            "-o", "collate=true",
            "-t", job.title]
    if job.printer:
        args = ["-d", job.printer, *args]
    return args


class CupsBackend:
    name = "cups"

    def __init__(self, lp: str = "lp", lpstat: str = "lpstat",
                 env: Mapping[str, str] | None = None, timeout_s: float = 60.0) -> None:
        self.lp = lp
        self.lpstat = lpstat
        self.timeout_s = timeout_s
        # CUPS_SERVER and friends pass through (a station may print to a server on the LAN).
        base = dict(os.environ if env is None else env)
        self.env = {**base, "LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}

    def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome:
        control.check()
        control.progress(0, 1, "Đang gửi phiếu tới máy in…")
        argv = [self.lp, *lp_command(job)]
        try:
            done = subprocess.run(argv, input=job.pdf, capture_output=True, env=self.env,
                                  timeout=self.timeout_s, check=False)
        except FileNotFoundError as exc:
            raise PrintServiceDown(f"{self.lp} not installed: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise PrintServiceDown(f"{self.lp} did not answer in {self.timeout_s:g} s") from exc
        out = done.stdout.decode("utf-8", "replace").strip()
        err = done.stderr.decode("utf-8", "replace").strip()
        if done.returncode != 0:
            raise _error_of(job.printer, done.returncode, err or out, self._scheduler_running())
        found = _REQUEST_ID.search(out)
        job_id = found.group(1) if found else ""
        log.info("print: %d B PDF to %r via CUPS, %d copies, %s: %s", len(job.pdf),
                 job.printer or "(default)", job.copies, job.paper, job_id or out)
        control.progress(1, 1, "Đã gửi")
        return PrintOutcome(job.printer, job.copies, page_count(job.pdf), self.name, job_id,
                            len(job.pdf), self._paused_note(job.printer))

    def _scheduler_running(self) -> bool | None:
        """``lp`` says "printer does not exist" when it cannot reach CUPS at all (it looks
        the destination up first): ask the scheduler to tell the two apart."""
        try:
            state = subprocess.run([self.lpstat, "-r"], capture_output=True, env=self.env,
                                   timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("lpstat -r failed: %r", exc)
            return None
        text = state.stdout.decode("utf-8", "replace").lower()
        return None if not text else "not running" not in text

    def _paused_note(self, printer: str) -> str:
        """A queue that is stopped keeps the job: tell the clerk it will wait there."""
        if not printer:
            return ""
        try:
            state = subprocess.run([self.lpstat, "-p", printer], capture_output=True,
                                   env=self.env, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("lpstat -p %r failed: %r", printer, exc)
            return ""
        text = state.stdout.decode("utf-8", "replace")
        if re.search(r"\bdisabled\b", text):
            log.warning("printer %r is paused: %s", printer, text.strip())
            return ("Máy in đang tạm dừng: phiếu nằm chờ trong hàng đợi và sẽ in khi máy in "
                    "được bật lại.")
        return ""


def _error_of(printer: str, code: int, message: str, running: bool | None) -> PrintError:
    detail = f"lp exit {code}: {message}; scheduler running: {running}"
    log.error("print to %r via CUPS failed: %s", printer or "(default)", detail)
    low = message.lower()
    if running is False:
        return PrintServiceDown(detail)
    if any(s in low for s in _NO_DEFAULT):
        return PrintError(
            "Máy tính này chưa có máy in mặc định. Hãy chọn máy in bằng “In…” "
            "(Ctrl+Shift+P) hoặc báo kỹ thuật viên cài máy in.", detail)
    if any(s in low for s in _REFUSED):
        return JobRefused(printer, detail)
    if any(s in low for s in _NOT_FOUND):
        return PrinterNotFound(printer, detail)
    if any(s in low for s in _DOWN):
        return PrintServiceDown(detail)
    return PrintError(
        f"Máy in “{printer or 'mặc định'}” không nhận lệnh in ({message or 'không rõ lý do'}). "
        "Hãy kiểm tra máy in rồi in lại; phiếu đã được lưu trong hồ sơ.", detail)
