"""The keyboard-wedge filter's cost: every event of the application passes through it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_wedge.py [--keys 20000]

Key events are sent to a QLineEdit in a window, with and without the filter installed:
letters (never held), digits followed by a space (held, then given back in order), whole
ID-card scans (held, then dropped), and non-key events (the bulk of what a GUI sees:
paint, timers, mouse moves). Events carry time stamps 3 ms apart, as a scanner's would,
so the filter sees scanner-speed bursts; no real waiting happens here (the timing
behaviour itself is tested in tests/test_gui_wedge*.py). Reports microseconds per
event; prints a table, asserts nothing."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from ui.wedge import WedgeScanFilter

CARD = "019190001234||Hoàng Thị Mai|12031992|Nữ|Thôn Nà Lẹng, xã Nà Phặc|20042021"


class Sender:
    def __init__(self, target: QLineEdit) -> None:
        self.target = target
        self.stamp = 1_000_000
        self.events = 0

    def key(self, ch: str) -> None:
        key = Qt.Key.Key_Return if ch == "\r" else Qt.Key.Key_unknown
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, 0, 0, 0, ch)
            event.setTimestamp(self.stamp)
            QApplication.sendEvent(self.target, event)
            self.events += 1
        self.stamp += 3

    def other(self) -> None:
        QApplication.sendEvent(self.target, QEvent(QEvent.Type.User))
        self.events += 1


def run(label: str, body: Callable[[Sender], None], edit: QLineEdit, count: int,
        wedge: WedgeScanFilter | None) -> tuple[str, float]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    if wedge is not None:
        wedge.install(app)
    edit.clear()
    sender = Sender(edit)
    start = time.perf_counter()
    while sender.events < count:
        body(sender)
        if len(edit.text()) > 2000:
            edit.clear()
    elapsed = time.perf_counter() - start
    if wedge is not None:
        wedge.uninstall(app)
    return label, elapsed / sender.events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=20_000, help="events per case")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    edit = QLineEdit()
    edit.show()
    edit.setFocus()
    app.processEvents()
    cases: list[tuple[str, Callable[[Sender], None]]] = [
        ("letters (passed on)", lambda s: [s.key(c) for c in "nguyen van an "]),
        ("digits + space (held, given back)", lambda s: [s.key(c) for c in "0912345678 "]),
        ("ID-card scans (held, dropped)", lambda s: [s.key(c) for c in CARD + "\r"]),
        ("non-key events", lambda s: s.other()),
    ]
    print(f"{'case':36} {'without filter':>16} {'with filter':>14} {'added':>10}")
    for label, body in cases:
        _, bare = run(label, body, edit, args.keys, None)
        _, filtered = run(label, body, edit, args.keys, WedgeScanFilter())
        print(f"{label:36} {bare:13.1f} µs {filtered:11.1f} µs {filtered - bare:7.1f} µs")
    print("µs per event, averaged over", args.keys, "events per case")


if __name__ == "__main__":
    main()
