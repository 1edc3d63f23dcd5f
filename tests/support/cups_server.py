"""A private CUPS scheduler for tests and benchmarks: its own configuration, spool and
socket under a temporary directory, on a free loopback port, never the machine's own.

cupsd must start as root (it drops to the ``lp`` user for filters); elsewhere
``start_cups`` returns the reason it cannot run, for ``pytest.skip``. Jobs are kept
(``PreserveJobFiles``) so a test can read what was spooled, byte for byte, and ask the
scheduler for the job's attributes with ``ipptool``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CUPS_FILES_CONF = """\
ServerRoot {root}
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/tmp
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
Printcap {root}/printcap
FileDevice Yes
User lp
Group lp
SystemGroup root
"""

CUPSD_CONF = """\
LogLevel info
Listen {root}/cups.sock
Listen 127.0.0.1:{port}
PreserveJobFiles Yes
PreserveJobHistory Yes
Browsing No
DefaultAuthType None
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cannot_run_reason() -> str:
    """Why a private cupsd cannot run here ("" when it can)."""
    missing = [t for t in ("cupsd", "lp", "lpadmin", "lpstat", "ipptool")
               if shutil.which(t) is None and not Path("/usr/sbin", t).exists()]
    if missing:
        return f"CUPS tools not installed: {', '.join(missing)} (scripts/setup.sh installs them)"
    if os.geteuid() != 0:
        return "cupsd must start as root to drop to the lp user (CI runs as root)"
    return ""


class CupsServer:
    def __init__(self) -> None:
        # Short path: a Unix socket's path is limited to ~100 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="motcua-cups-", dir="/tmp"))
        self.port = _free_port()
        self.out = self.root / "out"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> str:
        return str(self.root / "cups.sock")

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": self.socket_path, "LC_ALL": "C"}

    def start(self) -> None:
        self.root.chmod(0o755)
        for d in ("spool", "cache", "state", "tmp", "log", "out"):
            (self.root / d).mkdir()
        for d in ("tmp", "out"):
            (self.root / d).chmod(0o777)  # the lp user writes here
        (self.root / "cups-files.conf").write_text(CUPS_FILES_CONF.format(root=self.root))
        (self.root / "cupsd.conf").write_text(CUPSD_CONF.format(root=self.root, port=self.port))
        cupsd = shutil.which("cupsd") or "/usr/sbin/cupsd"
        self.proc = subprocess.Popen(
            [cupsd, "-f", "-c", str(self.root / "cupsd.conf"),
             "-s", str(self.root / "cups-files.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(200):  # readiness, not a timing assertion
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"cupsd exited {self.proc.returncode}: {err}")
            if "is running" in self.run("lpstat", "-r", check=False):
                return
            time.sleep(0.05)
        raise RuntimeError("cupsd did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, *argv: str, check: bool = True) -> str:
        tool = shutil.which(argv[0]) or f"/usr/sbin/{argv[0]}"
        done = subprocess.run([tool, *argv[1:]], capture_output=True, env=self.env,
                              check=False, timeout=60)
        if check and done.returncode != 0:
            raise RuntimeError(f"{argv}: {done.stderr.decode()}")
        return done.stdout.decode() + done.stderr.decode()

    def add_printer(self, name: str, model: str = "raw") -> Path:
        """A queue writing to a file under ``out``; ``model`` "raw" passes the job through,
        a driver (e.g. ``drv:///sample.drv/laserjet.ppd``) makes CUPS rasterise it."""
        device = self.out / f"{name}.out"
        self.run("lpadmin", "-p", name, "-E", "-v", f"file://{device}", "-m", model)
        return device

    def spooled(self, job_id: int) -> bytes:
        """The document of job ``job_id`` as the scheduler received it."""
        return (self.root / "spool" / f"d{job_id:05d}-001").read_bytes()

    def job_attributes(self, job_id: int) -> dict[str, str]:
        out = self.run("ipptool", "-tv", f"ipp://127.0.0.1:{self.port}/jobs/{job_id}",
                       "get-job-attributes.test")
        attrs: dict[str, str] = {}
        for line in out.splitlines():
            m = re.match(r"\s+([\w-]+) \([\w ]+\) = (.*)$", line)
            if m:
                attrs.setdefault(m.group(1), m.group(2).strip())
        return attrs

    def wait_job_state(self, job_id: int, states: tuple[str, ...] = ("completed",)) -> str:
        state = ""
        for _ in range(600):  # until the filters finished, bounded
            state = self.job_attributes(job_id).get("job-state", "")
            if state in states:
                return state
            time.sleep(0.1)
        raise RuntimeError(f"job {job_id} stayed {state!r}")


def job_number(job_id: str) -> int:
    """12 from lp's "quay1-12"."""
    return int(job_id.rsplit("-", 1)[1])


@contextmanager
def running_cups(*printers: str) -> Iterator[CupsServer]:
    """A private scheduler with ``printers`` (raw file queues) for a test module's
    fixture; the test is skipped where cupsd cannot run."""
    import pytest

    reason = cannot_run_reason()
    if reason:
        pytest.skip(reason)
    server = CupsServer()
    try:
        server.start()
        for name in printers:
            server.add_printer(name)
        yield server
    finally:
        server.stop()
