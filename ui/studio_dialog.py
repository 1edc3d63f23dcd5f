"""The studio as a dialog over the intake wizard: digitize the components of the dossier
being received; each stored component's files go back into the draft."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from desktop_app.digitization import DigitizedFile
from desktop_app.scanning.studio import StudioBackend
from desktop_app.scanning.workspace import Workspace
from ui import messages
from ui.screen_fit import fit
from ui.studio_page import StudioPage
from ui.workers import Runner


class StudioDialog(QDialog):
    def __init__(self, backend: StudioBackend, ws: Workspace, runner: Runner,
                 on_finished: Callable[[str, list[DigitizedFile]], None],
                 start_key: str | None = None, parent: QWidget | None = None,
                 heading: str = "Số hóa thành phần hồ sơ") -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{heading} — {ws.title}")
        fit(self, 1280, 820)
        self.studio = StudioPage(backend, runner, on_finished)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.studio)
        self.studio.open_workspace(ws)
        self.studio.close_requested.connect(self.reject)
        if start_key is not None:
            for row in range(self.studio.slots.count()):
                if self.studio.slots.item(row).data(Qt.ItemDataRole.UserRole) == start_key:
                    self.studio.slots.setCurrentRow(row)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.studio._busy():
            if not messages.confirm(self, "Đang quét/xử lý. Dừng lại và đóng cửa sổ? Các trang "
                                    "đã xong vẫn được giữ để làm tiếp.", yes="Dừng và đóng"):
                event.ignore()
                return
            self.studio.cancel()
            self.studio.jobs.pool.waitForDone(15_000)
        event.accept()
