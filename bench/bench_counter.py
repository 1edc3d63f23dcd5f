"""A typical intake at the counter, keys only: how many keyboard actions, how long the UI
thread stalls while the dossier is received and its slip printed, and the memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_counter.py [--rounds 5]

The real main window (embedded SQLite in a temporary data directory, the sample
provincial catalog, the keyboard-wedge filter as the app installs it) is driven with key
events by tests/support/typical_intake.py, the same sequence tests/test_gui_keys.py
checks: F2, the procedure typed without diacritics, Enter, an ID-card scan, Ctrl+Enter,
Ctrl+A, Ctrl+Enter ×3 (the last receives), Ctrl+P. The slip goes to a queue of a private
CUPS scheduler (started here as root, as in the tests); without root it is skipped.

A 5 ms QTimer on the UI thread ("watchdog") records the longest gap between its ticks
from the receiving Ctrl+Enter until the print job is in the queue. The baseline is the
same watchdog over an idle window for as long, in the same process: its own jitter.
Peak RSS is the process's high-water mark. Prints a table, asserts nothing."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.support.typical_intake import Actions, StallWatch, focus_in, typical_intake
from ui.main_window import MainWindow

PRINTER = "bench_counter"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    from tests.support.cups_server import CupsServer, cannot_run_reason

    reason = cannot_run_reason()
    if reason:
        print(f"skipped: no private CUPS scheduler here ({reason})")
        return
    cups = CupsServer()
    cups.start()
    try:
        cups.add_printer(PRINTER)
        os.environ["CUPS_SERVER"] = cups.socket_path
        os.environ["MOTCUA_PRINT_BACKEND"] = "cups"
        run(args.rounds)
    finally:
        cups.stop()


def run(rounds: int) -> None:
    import desktop_app.printers as printers
    from desktop_app.accounts import AccountService, Role
    from desktop_app.scanning.studio import StudioBackend
    from desktop_app.startup import open_station
    from desktop_app.station import StationInfo, StationService
    from ui.style import apply_style
    from ui.wedge import WedgeScanFilter

    # Qt's own printer list comes from the system's scheduler; the bench's is private.
    printers.available_printers = lambda: [PRINTER]
    printers.default_printer = lambda: PRINTER
    StudioBackend.sources = lambda self, folders=None: []  # no SANE probe
    app = QApplication(sys.argv[:1])
    apply_style(app)
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        ctx = open_station(Path(tmp) / "data")
        try:
            station = StationService(ctx).save(StationInfo(
                agency_code="000.00.12.H12", agency_name="UBND XÃ NÀ PHẶC",
                parent_name="UBND TỈNH THÁI NGUYÊN", place_name="Nà Phặc", station_digit=1))
            clerk = AccountService(ctx).create_clerk("huong", "Triệu Thị Hương",
                                                     "mat-khau-1", Role.CLERK)
            window = MainWindow(ctx, clerk, replace(station, printer=PRINTER))
            wedge = WedgeScanFilter(window)
            wedge.install(app)
            window.take_scans(wedge)
            window.resize(1366, 768)
            window.show()
            focus_in(window)
            rss_start = rss_mib()
            rows = []
            for _ in range(rounds):
                rows.append(one_round(window, Actions(), StallWatch()))
                assert window.last_preview is not None
                window.last_preview.accept()
                focus_in(window)
            window.sync.stop()
            window.runner.wait()
            window.close()
        finally:
            ctx.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'round':>5} {'actions':>8} {'receive+print':>14} {'UI stall':>9} "
          f"{'idle jitter':>12} {'ratio':>6}")
    for i, (n, seconds, stall, idle) in enumerate(rows, 1):
        ratio = stall / idle if idle > 0 else float("inf")
        print(f"{i:>5} {n:>8} {seconds:>12.2f} s {stall:>6.0f} ms {idle:>9.0f} ms {ratio:>6.1f}")
    stalls = [r[2] for r in rows]
    print(f"longest UI stall during receive + print: {max(stalls):.0f} ms "
          f"(median {statistics.median(stalls):.0f} ms over {len(rows)} rounds)")
    print(f"keyboard actions per intake: {rows[0][0]}")
    print(f"RSS at the first round {rss_start:.0f} MiB, peak {peak:.0f} MiB")


def one_round(window: MainWindow, actions: Actions,
              watch: StallWatch) -> tuple[int, float, float, float]:
    typical_intake(window, actions, watch)
    # The baseline: the same watchdog over the idle event loop, for as long.
    idle = StallWatch()
    idle.start()
    QTest.qWait(max(500, int(watch.elapsed_s * 1000)))
    return len(actions.done), watch.elapsed_s, watch.longest_ms, idle.stop()


if __name__ == "__main__":
    main()
