"""Everything fits the counter PC's screen: 1024×768 monitors and 1366×768 laptops, often
at 125 % scaling (1093×614 logical pixels, less the taskbar). Windows and dialogs take
their size from the screen they open on, pages scroll instead of growing the window, and
rows of buttons wrap instead of widening it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLayout,
    QLayoutItem,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

# The smallest main window a counter PC must show whole: 1366×768 at 125 % is 1093×614
# logical pixels; the taskbar and the title bar take ~70 of the height.
MIN_WINDOW = QSize(960, 520)


def available(widget: QWidget | None = None) -> QRect:
    """The usable part (without the taskbar) of the screen ``widget`` is on."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def fit(widget: QWidget, width: int, height: int, fraction: float = 0.94) -> QSize:
    """Resize ``widget`` to ``width``×``height``, or to ``fraction`` of the available
    screen where that is smaller, and centre it over its parent (or the screen)."""
    room = available(widget.parentWidget() or widget)
    size = QSize(min(width, int(room.width() * fraction)),
                 min(height, int(room.height() * fraction)))
    widget.setMinimumSize(widget.minimumSize().boundedTo(size))
    widget.resize(size)
    anchor = widget.parentWidget()
    centre = (anchor.frameGeometry().center() if anchor is not None and anchor.isVisible()
              else room.center())
    top_left = centre - QPoint(size.width() // 2, size.height() // 2)
    x = max(room.left(), min(top_left.x(), room.right() - size.width()))
    y = max(room.top(), min(top_left.y(), room.bottom() - size.height()))
    widget.move(x, y)
    return size


def show_fitted(window: QWidget, width: int, height: int) -> None:
    """Show the main window at its preferred size, maximised when the screen is smaller
    (a 1024×768 monitor, a laptop at 125 %)."""
    room = available(window)
    if room.width() < width + 40 or room.height() < height + 60:
        window.showMaximized()
    else:
        fit(window, width, height)
        window.show()


def scrolling(widget: QWidget, *, horizontal: bool = False) -> QScrollArea:
    """``widget`` in a frameless scroll area that gives it all the room there is and
    scrolls when there is less than it needs."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded if horizontal
                                      else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return area


class FlowLayout(QLayout):
    """Lays widgets out left to right and wraps to the next line when the row is full
    (Qt's flow layout example): a row of buttons never makes a window wider."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        # Told the height the items take at the width they were given (ActionBar).
        self.on_height: Callable[[int], None] | None = None
        if parent is None:
            self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # type: ignore[override]
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        height = self._arrange(rect, apply=True)
        if self.on_height is not None:
            self.on_height(height)

    def sizeHint(self) -> QSize:
        """All on one line (what a wide screen shows)."""
        items = [item for item in self._items if not item.isEmpty()]
        width = sum(item.sizeHint().width() for item in items)
        width += self._spacing * max(0, len(items) - 1)
        height = max((item.sizeHint().height() for item in items), default=0)
        margins = self.contentsMargins()
        return QSize(width + margins.left() + margins.right(),
                     height + margins.top() + margins.bottom())

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _arrange(self, rect: QRect, *, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(),
                             -margins.bottom())
        x, y, line = area.x(), area.y(), 0
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint()
            if x + hint.width() > area.right() + 1 and line > 0:
                x = area.x()
                y += line + self._spacing
                line = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line = max(line, hint.height())
        return y + line - rect.y() + margins.bottom()



class ActionBar(QWidget):
    """A page's row of buttons: the secondary ones wrap onto a second line when the
    screen is narrow; the primary ones stay whole at the right, always visible."""

    def __init__(self, secondary: list[QWidget], primary: list[QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._flow_holder = QWidget()
        self._flow = FlowLayout(self._flow_holder)
        self._flow.setContentsMargins(0, 0, 0, 0)
        for widget in secondary:
            self._flow.addWidget(widget)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self._flow_holder, 1)
        for widget in primary:
            row.addWidget(widget, 0, Qt.AlignmentFlag.AlignBottom)

        self._flow.on_height = self._fit_height

    def hasHeightForWidth(self) -> bool:
        # Said through the minimum height instead (_fit_height): a height-for-width child
        # makes a scroll area size its page from preferred heights, and scroll.
        return False

    def _fit_height(self, flow_height: int) -> None:
        primary = max((w.sizeHint().height() for w in self.findChildren(QWidget)
                       if w.parentWidget() is self and w is not self._flow_holder
                       and not w.isHidden()), default=0)
        needed = max(flow_height, primary)
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)
