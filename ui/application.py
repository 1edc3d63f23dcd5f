"""The QApplication as the station and training mode both start it: Vietnamese Qt
strings, the crash reporter, the names the desktop knows it by, the icon, the style."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from ui import qt_vi
from ui.crash import CrashReporter
from ui.style import apply_style


def make_application(argv: list[str]) -> tuple[QApplication, CrashReporter]:
    """The application as the station and training mode both run it."""
    app = QApplication(argv)
    qt_vi.install(app)
    crashes = CrashReporter()
    crashes.install()
    app.setApplicationName("Một Cửa Offline")
    app.setOrganizationName("MotCuaOffline")
    app.setDesktopFileName("motcua-offline")  # = motcua-offline.desktop (Wayland app_id)
    icon = resources.files("resources") / "icons" / "motcua.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    apply_style(app)
    return app, crashes
