"""Log files on a counter PC where the GUI, the scheduled sync and commands run at once:
each kind of process has its own file, rotation never breaks logging (Windows refuses to
rename a file another process holds open), and an uncaught exception or a native crash
lands in the logs even without a console (``sys.stderr`` None, the windowed build)."""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.crash_hooks import CRASH_LOG
from desktop_app.logging_setup import (
    CLI,
    GUI,
    LOG_FILES,
    SYNC,
    RedactingFilter,
    SharedRotatingFileHandler,
    setup_logging,
)

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[1]

# A process of one kind writing numbered lines into logs with a tiny size limit.
WRITER = """
import logging, os, sys
from pathlib import Path
from desktop_app import logging_setup
logging_setup.MAX_BYTES, logging_setup.BACKUPS = 2000, 1000
kind, logs, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
logging_setup.setup_logging(logs, kind=kind)
log = logging.getLogger("writer")
for i in range(n):
    log.info("%s pid%d line %d", kind, os.getpid(), i)
"""


def _run(script: str, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _lines(logs: Path, kind: str) -> list[str]:
    return [line for f in logs.glob(LOG_FILES[kind] + "*")
            for line in f.read_text(encoding="utf-8").splitlines()]


def _numbers(lines: list[str], tag: str) -> list[int]:
    return sorted(int(m.group(1)) for line in lines
                  if (m := re.search(rf"{tag} line (\d+)$", line)))


def _write_at_once(logs: Path, kinds: list[str], n: int) -> list[int]:
    writers = [_run(WRITER, kind, str(logs), str(n)) for kind in kinds]
    for writer in writers:
        _out, err = writer.communicate(timeout=60)
        assert (writer.returncode, err) == (0, ""), err  # no exception, no warning
    return [w.pid for w in writers]


def test_gui_and_sync_rotate_their_own_files_at_once_losing_nothing(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    n = 1500
    gui_pid, sync_pid = _write_at_once(logs, [GUI, SYNC], n)
    for kind, pid in ((GUI, gui_pid), (SYNC, sync_pid)):
        assert (logs / f"{LOG_FILES[kind]}.2").is_file()  # rotated, several times
        lines = _lines(logs, kind)
        assert _numbers(lines, f"{kind} pid{pid}") == list(range(n))
        assert len(lines) == n  # nothing of the other kind in it
    assert sorted(p.name for p in logs.iterdir() if not p.name[-1].isdigit()) == [
        "motcua-gui.log", "motcua-sync.log"]  # no lock or half-rotated file left


def test_two_commands_share_their_file_and_rotate_it_without_losing_lines(
        tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    n = 1500
    pids = _write_at_once(logs, [CLI, CLI], n)
    lines = _lines(logs, CLI)
    for pid in pids:
        assert _numbers(lines, f"cli pid{pid}") == list(range(n))
    assert len(lines) == 2 * n
    assert (logs / f"{LOG_FILES[CLI]}.2").is_file()
    assert not list(logs.glob("*.lock")) and not list(logs.glob("*.rotating"))


def test_a_deleted_logs_folder_is_made_again_and_logging_goes_on(tmp_path: Path) -> None:
    # A training reset (or a technician) deletes the logs folder under a running app.
    logs = tmp_path / "data" / "logs"
    assert setup_logging(logs, kind=GUI, console=False) == logs / "motcua-gui.log"
    log = logging.getLogger("test.deleted")
    try:
        log.info("before")
        shutil.rmtree(tmp_path / "data")
        log.info("after")  # no "--- Logging error ---", no closed stream left behind
        assert "after" in (logs / "motcua-gui.log").read_text(encoding="utf-8")
        shutil.rmtree(tmp_path / "data")
        # Installing the next process kind's handlers closes the old one without error.
        assert setup_logging(tmp_path / "other", kind=SYNC, console=False) is not None
        log.info("elsewhere")
        assert "elsewhere" in (tmp_path / "other" / "motcua-sync.log").read_text(
            encoding="utf-8")
    finally:
        setup_logging(None, console=False)


def test_rotation_refused_by_the_os_keeps_logging_and_retries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "motcua-gui.log"
    handler = SharedRotatingFileHandler(path, maxBytes=600, backupCount=50, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.rotation")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    def held_open(*_args: object, **_kwargs: object) -> None:  # as Windows answers
        raise PermissionError(errno.EACCES, "The process cannot access the file because it "
                                            "is being used by another process")

    try:
        monkeypatch.setattr(os, "replace", held_open)
        monkeypatch.setattr(os, "rename", held_open)
        for i in range(60):
            log.info("held line %d", i)
        assert path.stat().st_size > 600 and not (tmp_path / "motcua-gui.log.1").exists()
        text = path.read_text(encoding="utf-8")
        assert text.count("WARNING log rotation postponed") == 1  # once, not per line
        assert _numbers(text.splitlines(), "held") == list(range(60))

        monkeypatch.undo()  # the other process has closed the file
        for i in range(60):
            log.info("free line %d", i)
    finally:
        log.removeHandler(handler)
        handler.close()
    assert (tmp_path / "motcua-gui.log.1").is_file()
    lines = [line for f in tmp_path.glob("motcua-gui.log*")
             for line in f.read_text(encoding="utf-8").splitlines()]
    assert _numbers(lines, "held") == list(range(60))
    assert _numbers(lines, "free") == list(range(60))
    assert path.stat().st_size < 600 + 100  # back to its size once rotation works


# `motcua doctor` whose check fails with an exception nobody catches, started through the
# executable's entry point (`ui.main.main`), optionally without stdout/stderr.
BROKEN_COMMAND = """
import sys
from desktop_app.commands import doctor_cmd
if sys.argv[2] == "no-console":
    sys.stdout = sys.stderr = None
def check_the_counter(args):
    raise RuntimeError("doctor failed reading the dossier of 001099012345")
def crash_below_python(args):
    import faulthandler
    faulthandler._sigsegv()
doctor_cmd.run = crash_below_python if sys.argv[3] == "native" else check_the_counter
from ui.main import main
sys.exit(main(["doctor", "--data-dir", sys.argv[1]]))
"""


@pytest.mark.parametrize("console", ["console", "no-console"])
def test_uncaught_exception_in_a_command_lands_in_its_log(tmp_path: Path, console: str
                                                          ) -> None:
    data = tmp_path / "data"
    data.mkdir()
    proc = _run(BROKEN_COMMAND, str(data), console, "python")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    text = (data / "logs" / LOG_FILES[CLI]).read_text(encoding="utf-8")
    assert "CRITICAL motcua.crash: unexpected RuntimeError in main thread" in text
    assert "in check_the_counter" in text  # the traceback
    assert "001099012345" not in text and "[ID]" in text
    if console == "console":  # the technician at a console sees it too, once
        assert err.count("unexpected RuntimeError") == 1 and "001099012345" not in err
    else:
        assert (out, err) == ("", "")


def test_native_crash_without_a_console_leaves_its_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    proc = _run(BROKEN_COMMAND, str(data), "no-console", "native")
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    crash = (data / "logs" / CRASH_LOG).read_text(encoding="utf-8")
    assert "Fatal Python error" in crash and "crash_below_python" in crash


def test_exception_before_logging_is_set_up_goes_to_the_default_data_dir(
        tmp_path: Path) -> None:
    """The frozen entry installs the hooks before importing the application: an import
    that fails there (a missing DLL) is logged although nothing set up logging yet."""
    data = tmp_path / "data"
    data.mkdir()
    script = ("import sys\nsys.stderr = None\nfrom desktop_app import crash_hooks\n"
              "crash_hooks.install()\nimport ui_module_that_is_missing\n")
    proc = _run(script, env={"MOTCUA_DATA_DIR": str(data)})
    proc.communicate(timeout=60)
    assert proc.returncode == 1
    text = (data / "logs" / LOG_FILES[CLI]).read_text(encoding="utf-8")
    assert "unexpected ModuleNotFoundError in main thread" in text
    assert "ui_module_that_is_missing" in text
