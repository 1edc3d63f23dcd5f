"""Zoom/pan viewer. A page opens at once from its small preview; when the operator zooms
in past the preview's resolution a sharper downscaled view is decoded on a worker."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QKeyEvent, QPixmap, QTransform, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QWidget

from desktop_app.scanning.model import ProcessedPage
from desktop_app.scanning.views import RawView, load_scaled
from ui.workers import Runner

SHARP_SIDE = 4000  # longest side of the sharper view (≈ 16 MP, fine for an A0 at 100 %)


class PageViewer(QGraphicsView):
    def __init__(self, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.setScene(QGraphicsScene(self))
        self.item = QGraphicsPixmapItem()
        self.item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self.item)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Xem trang")
        self.page: ProcessedPage | None = None
        self.zoom = 1.0
        self._sharp = False

    def show_page(self, page: ProcessedPage | None) -> None:
        self.page = page
        self._sharp = False
        if page is None:
            self.item.setPixmap(QPixmap())
            return
        pix = QPixmap(str(page.preview_path))
        self._set(pix, page)
        self.fit()

    def _set(self, pix: QPixmap, page: ProcessedPage) -> None:
        # The scene is in page pixels / 10 so a preview and a sharp view line up exactly.
        self.item.setPixmap(pix)
        if not pix.isNull():
            sx = page.width_px / 10 / pix.width()
            sy = page.height_px / 10 / pix.height()
            self.item.setTransform(QTransform.fromScale(sx, sy))
        self.item.setTransformOriginPoint(self.item.boundingRect().center())
        self.item.setRotation(page.rotation)
        self.scene().setSceneRect(self.item.sceneBoundingRect())

    def fit(self) -> None:
        if self.page is None:
            return
        self.fitInView(self.item.sceneBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom = self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        if self.page is None:
            return
        factor = max(0.02, min(factor, 20.0))
        self.setTransform(QTransform.fromScale(factor, factor))
        self.zoom = factor
        self._maybe_sharpen()

    def _maybe_sharpen(self) -> None:
        page = self.page
        if page is None or self._sharp:
            return
        shown = self.item.pixmap().width()
        needed = page.width_px / 10 * self.zoom
        if needed <= shown * 1.2:
            return
        self._sharp = True

        def apply(view: RawView) -> None:
            if self.page is not page:
                return  # the operator moved on
            image = QImage(view.rgb, view.width, view.height, view.width * 3,
                           QImage.Format.Format_RGB888).copy()
            self._set(QPixmap.fromImage(image), page)

        self.runner.submit(lambda: load_scaled(page.image_path, SHARP_SIDE), apply,
                           lambda m, d: None)

    def wheelEvent(self, event: QWheelEvent) -> None:
        # The wheel zooms (pages are panned by dragging), as in scanner software.
        self.set_zoom(self.zoom * (1.25 if event.angleDelta().y() > 0 else 0.8))
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.zoom * 1.25)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self.zoom * 0.8)
        elif key == Qt.Key.Key_0:
            self.fit()
        elif key == Qt.Key.Key_1:
            self.set_zoom(10 / max(1, self.page.dpi / 96) if self.page else 1.0)  # ~100 %
        else:
            super().keyPressEvent(event)

    def visible_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()
