"""Quick captures with a webcam or document camera (QtMultimedia): the operator frames the
paper, presses Space (or the button) for each page, and the photos go through the same
import path as files (dpi is recorded from the page size the profile says)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtMultimedia import (
    QCamera,
    QImageCapture,
    QMediaCaptureSession,
    QMediaDevices,
)
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.screen_fit import fit

log = logging.getLogger(__name__)


class CameraDialog(QDialog):
    """Returns the captured photo files in ``self.files`` when accepted."""

    def __init__(self, dest_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Chụp giấy tờ bằng máy ảnh")
        fit(self, 960, 720)
        self.dest_dir = dest_dir
        self.dest_dir.mkdir(parents=True, exist_ok=True)
        self.files: list[Path] = []
        self.devices = QComboBox()
        for dev in QMediaDevices.videoInputs():
            self.devices.addItem(dev.description(), dev)
        self.video = QVideoWidget()
        self.count = QLabel("Chưa chụp trang nào.")
        shoot = QPushButton("&Chụp trang (Phím cách)")
        shoot.setToolTip("Chụp trang đang hiện trên máy ảnh")
        shoot.setObjectName("primary")
        shoot.setShortcut(Qt.Key.Key_Space)
        done = QPushButton("&Xong, đưa vào số hóa")
        done.setToolTip("Đưa các trang đã chụp vào màn hình số hóa")
        cancel = QPushButton("&Hủy")
        cancel.setToolTip("Đóng máy ảnh, bỏ các trang vừa chụp")
        row = QHBoxLayout()
        row.addWidget(QLabel("Máy ảnh:"))
        row.addWidget(self.devices, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        buttons.addWidget(shoot)
        buttons.addWidget(done)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.video, 1)
        layout.addLayout(buttons)

        self.session = QMediaCaptureSession(self)
        self.capture = QImageCapture(self)
        self.capture.setFileFormat(QImageCapture.FileFormat.JPEG)
        self.capture.setQuality(QImageCapture.Quality.VeryHighQuality)
        self.session.setImageCapture(self.capture)
        self.session.setVideoOutput(self.video)
        self.camera: QCamera | None = None
        self.capture.imageSaved.connect(self._saved)
        self.capture.errorOccurred.connect(self._error)
        self.devices.currentIndexChanged.connect(self._use_device)
        shoot.clicked.connect(self.shoot)
        done.clicked.connect(self.accept)
        cancel.clicked.connect(self.reject)
        self._use_device()

    def _use_device(self) -> None:
        if self.camera is not None:
            self.camera.stop()
        dev = self.devices.currentData()
        if dev is None:
            self.count.setText("Không tìm thấy máy ảnh nào trên máy tính này.")
            return
        self.camera = QCamera(dev, self)
        self.camera.errorOccurred.connect(lambda *_: self.count.setText(
            "Máy ảnh báo lỗi hoặc đã bị rút ra. Các ảnh đã chụp vẫn được giữ."))
        self.session.setCamera(self.camera)
        self.camera.start()

    def shoot(self) -> None:
        if not self.capture.isReadyForCapture():
            self.count.setText("Máy ảnh chưa sẵn sàng, chờ một chút rồi chụp lại.")
            return
        path = self.dest_dir / f"camera-{len(self.files) + 1:04d}.jpg"
        self.capture.captureToFile(str(path))

    def _saved(self, request_id: int, path: str) -> None:
        self.files.append(Path(path))
        self.count.setText(f"Đã chụp {len(self.files)} trang.")

    def _error(self, request_id: int, error: object, message: str) -> None:
        log.warning("camera capture failed: %s", message)
        self.count.setText("Không chụp được ảnh (máy ảnh báo lỗi). Hãy thử lại.")

    def done(self, result: int) -> None:
        if self.camera is not None:
            self.camera.stop()
        super().done(result)
