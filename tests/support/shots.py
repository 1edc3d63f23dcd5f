"""Pictures of a GUI test's screens for people to look at: saved only when
MOTCUA_TEST_SHOTS names a folder (never asserted on)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget


def shot(name: str, widget: QWidget | None = None) -> None:
    folder = os.environ.get("MOTCUA_TEST_SHOTS")
    if not folder:
        return
    target = widget or QApplication.activeModalWidget() or QApplication.activeWindow()
    if target is None:
        return
    QApplication.processEvents()
    Path(folder).mkdir(parents=True, exist_ok=True)
    target.grab().save(str(Path(folder) / f"{name}.png"))
