"""Counter dashboard (F10): the figures the provincial reports judge a commune on, with
charts (QtCharts), PNG export, and the tracking book as PDF or XLSX."""

from __future__ import annotations

import math
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.report_model import DashboardFigures, DayCount, ProcedureCount
from ui import messages
from ui.screen_fit import FlowLayout
from ui.workers import Runner

ACCENT = QColor("#0b5aa2")
RETURNED = QColor("#2e8b57")
LATE = QColor("#c0392b")


def period(key: str, today: date) -> tuple[date, date]:
    """(start, end inclusive) of a named period."""
    if key == "30d":
        return today - timedelta(days=29), today
    if key == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end
    if key == "quarter":
        first_month = (today.month - 1) // 3 * 3 + 1
        return today.replace(month=first_month, day=1), today
    if key == "year":
        return today.replace(month=1, day=1), today
    return today.replace(day=1), today  # this month


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


_RETURNED_BASIS = "trên hồ sơ trả kết quả trong kỳ"


def _ratio(count: int, of: int, share: float | None) -> str:
    """"12/14 — 85,7 %": the count and its base beside the share."""
    return f"{count}/{of}" if share is None else f"{count}/{of} — {_pct(share)}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{seconds / 60:.0f} phút"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} giờ".replace(".", ",")
    return f"{seconds / 86400:.1f} ngày".replace(".", ",")


class _Kpi(QWidget):
    def __init__(self, label: str, tip: str = "", basis: str = "") -> None:
        super().__init__()
        self.value = QLabel("—")
        self.value.setObjectName("cardValue")
        text = QLabel(label)
        text.setObjectName("cardLabel")
        text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.value)
        layout.addWidget(text)
        if basis:  # what the share is taken over, in the quieter hint style
            under = QLabel(basis)
            under.setObjectName("hint")
            layout.addWidget(under)
        if tip:
            self.setToolTip(tip)


def _chart(title: str) -> tuple[QChart, QChartView]:
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(240)
    view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Tab reaches it; Ctrl+E exports it
    return chart, view


def _count_axis(top: int) -> QValueAxis:
    """Whole-number ticks (counts of dossiers), about five of them."""
    axis = QValueAxis()
    axis.setLabelFormat("%d")
    step = max(1, math.ceil(top / 5))
    axis.setRange(0, step * max(1, math.ceil(top / step)))
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(0)
    axis.setTickInterval(step)
    return axis


def _buckets(days: list[DayCount]) -> list[tuple[date, int, int]]:
    """(first day, received, returned) per day, or per week beyond ~6 weeks, so the
    chart stays readable for a quarter or a year."""
    if len(days) <= 42:
        return [(d.day, d.received, d.returned) for d in days]
    weeks: dict[date, list[int]] = {}
    for d in days:
        start = d.day - timedelta(days=d.day.weekday())
        totals = weeks.setdefault(start, [0, 0])
        totals[0] += d.received
        totals[1] += d.returned
    return [(start, got, gave) for start, (got, gave) in sorted(weeks.items())]


def _short(name: str, width: int = 38) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


class DashboardPage(QWidget):
    def __init__(self, reports: object, runner: Runner, today: object) -> None:
        """``reports``: a ``desktop_app.reports.ReportService``; ``today``: a callable
        giving the counter's date (the app clock)."""
        super().__init__()
        self.reports = reports
        self.runner = runner
        self.today = today
        self.figures: DashboardFigures | None = None
        self._generation = 0

        title = QLabel("Bảng điều khiển của Bộ phận Một cửa")
        title.setObjectName("pageTitle")
        self.period = QComboBox()
        self.period.setAccessibleName("Kỳ báo cáo")
        for label, key in (("Tháng này", "month"), ("30 ngày qua", "30d"),
                           ("Tháng trước", "last_month"), ("Quý này", "quarter"),
                           ("Năm nay", "year")):
            self.period.addItem(label, key)
        self.range_label = QLabel()
        self.range_label.setObjectName("hint")
        self.export_png = QPushButton("Xuất &biểu đồ PNG…")
        self.export_png.setToolTip("Lưu các biểu đồ của kỳ này thành ảnh PNG vào một thư mục")
        self.book_pdf = QPushButton("Sổ theo dõi hồ sơ (&PDF)…")
        self.book_pdf.setToolTip(
            "Xuất sổ theo dõi hồ sơ (mẫu 07) của kỳ này thành PDF khổ A4 ngang")
        self.book_xlsx = QPushButton("Sổ theo dõi hồ sơ (&XLSX)…")
        self.book_xlsx.setToolTip("Xuất sổ theo dõi hồ sơ (mẫu 07) của kỳ này thành tệp Excel")
        period = QHBoxLayout()
        period.addWidget(QLabel("Kỳ:"))
        period.addWidget(self.period)
        period.addWidget(self.range_label)
        period.addStretch(1)
        exports = FlowLayout()
        for b in (self.export_png, self.book_pdf, self.book_xlsx):
            exports.addWidget(b)

        self.kpis = {
            "received": _Kpi("hồ sơ tiếp nhận"),
            "returned": _Kpi("hồ sơ đã trả kết quả"),
            "on_time": _Kpi("trả đúng hạn"),
            "digitized": _Kpi("hồ sơ số hóa đủ thành phần"),
            "lag": _Kpi("độ trễ đồng bộ (trung vị · p95)"),
            "late_open": _Kpi("hồ sơ đang quá hẹn"),
            "unsynced": _Kpi("hồ sơ chưa gửi lên tỉnh"),
        }
        cards = FlowLayout()  # one row on a wide screen, two or three on a narrow one
        for card in self.kpis.values():
            cards.addWidget(card)
        # The figures the province's scorecard judges the commune on (README, "Ba chỉ số
        # của tỉnh"): each shown with its count and base, as the scorecard is checked.
        self.province = {
            "electronic": _Kpi(
                "hồ sơ có kết quả điện tử",
                basis=_RETURNED_BASIS,
                tip="Hồ sơ trả kết quả trong kỳ mà máy đã nhận tệp kết quả của tỉnh, hoặc "
                "kết quả được trao dạng bản điện tử"),
            "digitized_result": _Kpi(
                "hồ sơ được số hóa hồ sơ và kết quả",
                basis=_RETURNED_BASIS,
                tip="Hồ sơ trả kết quả trong kỳ có mọi thành phần đã nộp được số hóa và có "
                "tệp kết quả của tỉnh"),
            "reuse": _Kpi(
                "hồ sơ khai thác, tái sử dụng dữ liệu đã số hóa",
                basis="trên hồ sơ tiếp nhận trong kỳ",
                tip="Hồ sơ tiếp nhận trong kỳ có ít nhất một thành phần dùng lại bản số hóa "
                "của hồ sơ trước"),
        }
        province_title = QLabel("Ba chỉ số của tỉnh")
        province_title.setObjectName("stepTitle")
        province_cards = FlowLayout()
        for card in self.province.values():
            province_cards.addWidget(card)

        self.daily, self.daily_view = _chart("Hồ sơ tiếp nhận và trả kết quả theo ngày")
        self.top, self.top_view = _chart("Thủ tục tiếp nhận nhiều nhất")
        self.late, self.late_view = _chart("Hồ sơ trễ hạn theo thủ tục")
        charts = QGridLayout()
        charts.addWidget(self.daily_view, 0, 0, 1, 2)
        charts.addWidget(self.top_view, 1, 0)
        charts.addWidget(self.late_view, 1, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(period)
        layout.addLayout(exports)
        layout.addLayout(cards)
        layout.addWidget(province_title)
        layout.addLayout(province_cards)
        layout.addLayout(charts, 1)

        self.period.currentIndexChanged.connect(lambda _: self.refresh())
        self.export_png.clicked.connect(self.export_charts)
        self.book_pdf.clicked.connect(lambda: self.export_book("pdf"))
        self.book_xlsx.clicked.connect(lambda: self.export_book("xlsx"))

    # --- data ------------------------------------------------------------------------

    def current_period(self) -> tuple[date, date]:
        return period(str(self.period.currentData()), self.today())  # type: ignore[operator]

    def refresh(self) -> None:
        start, end = self.current_period()
        self.range_label.setText(f"{start:%d/%m/%Y} – {end:%d/%m/%Y}")
        self._generation += 1
        generation = self._generation

        def done(f: DashboardFigures) -> None:
            if generation == self._generation:  # drop an answer for an older period
                self.show_figures(f)

        self.runner.submit(lambda: self.reports.dashboard(start, end),  # type: ignore[attr-defined]
                           done, lambda m, d: messages.error(self, m))

    def show_figures(self, f: DashboardFigures) -> None:
        self.figures = f
        k = self.kpis
        k["received"].value.setText(str(f.received))
        k["returned"].value.setText(str(f.returned))
        k["on_time"].value.setText(_pct(f.on_time_rate))
        k["digitized"].value.setText(_pct(f.digitized_share))
        k["lag"].value.setText(f"{_duration(f.sync_lag_median_s)} · "
                               f"{_duration(f.sync_lag_p95_s)}")
        k["late_open"].value.setText(str(f.late_open))
        k["unsynced"].value.setText(str(f.unsynced))
        p = self.province
        p["electronic"].value.setText(_ratio(f.electronic_results, f.electronic_results_of,
                                             f.electronic_results_share))
        p["digitized_result"].value.setText(_ratio(
            f.digitized_with_result, f.digitized_with_result_of,
            f.digitized_with_result_share))
        p["reuse"].value.setText(_ratio(f.reused, f.reused_of, f.reuse_share))
        self._daily(f)
        self._procedures(self.top, f.top_procedures[:8], "received", "Tiếp nhận", ACCENT)
        self._procedures(self.late, f.late_by_procedure[:8], "late", "Trễ hạn", LATE)

    def _daily(self, f: DashboardFigures) -> None:
        chart = self.daily
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        received, returned = QBarSet("Tiếp nhận"), QBarSet("Trả kết quả")
        received.setColor(ACCENT)
        returned.setColor(RETURNED)
        buckets = _buckets(f.per_day)
        weekly = len(buckets) < len(f.per_day)
        chart.setTitle("Hồ sơ tiếp nhận và trả kết quả theo " + ("tuần" if weekly else "ngày"))
        labels = []
        for first, got, gave in buckets:
            received.append(got)
            returned.append(gave)
            # Day numbers are unique within a month-long window; a new month shows dd/MM.
            labels.append(f"{first.day}/{first.month}" if weekly or first.day == 1 or not labels
                          else f"{first.day}")
        series = QBarSeries()
        series.append(received)
        series.append(returned)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(labels)
        top = max([b[1] for b in buckets] + [b[2] for b in buckets] + [1])
        y = _count_axis(top)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)

    @staticmethod
    def _procedures(chart: QChart, rows: list[ProcedureCount], field: str, label: str,
                    colour: QColor) -> None:
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        values = QBarSet(label)
        values.setColor(colour)
        names = []
        for row in reversed(rows):  # largest at the top
            values.append(getattr(row, field))
            names.append(_short(f"{row.name} ({row.code})"))
        series = QHorizontalBarSeries()
        series.append(values)
        chart.addSeries(series)
        y = QBarCategoryAxis()
        y.append(names or ["(chưa có dữ liệu)"])
        x = _count_axis(max([getattr(r, field) for r in rows] + [1]))
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(x)
        series.attachAxis(y)
        chart.legend().setVisible(False)

    # --- exports ---------------------------------------------------------------------

    def chart_views(self) -> dict[str, QChartView]:
        return {"tiep-nhan-tra-theo-ngay": self.daily_view, "thu-tuc-nhieu-nhat":
                self.top_view, "tre-han-theo-thu-tuc": self.late_view}

    def save_charts(self, folder: Path) -> list[Path]:
        start, end = self.current_period()
        out = []
        for name, view in self.chart_views().items():
            path = folder / f"{name}_{start:%Y%m%d}-{end:%Y%m%d}.png"
            if not view.grab().save(str(path), "PNG"):
                raise OSError(f"cannot write {path}")
            out.append(path)
        return out

    def export_charts(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Chọn thư mục lưu biểu đồ")
        if not folder:
            return
        try:
            paths = self.save_charts(Path(folder))
        except OSError as exc:
            messages.error(self, f"Không lưu được biểu đồ: {exc}")
            return
        messages.info(self, f"Đã lưu {len(paths)} biểu đồ PNG vào {folder}.")

    def export_book(self, fmt: str) -> None:
        start, end = self.current_period()
        suggested = f"so-theo-doi-ho-so_{start:%Y%m%d}-{end:%Y%m%d}.{fmt}"
        target, _ = QFileDialog.getSaveFileName(
            self, "Lưu sổ theo dõi hồ sơ", suggested,
            "PDF (*.pdf)" if fmt == "pdf" else "Excel (*.xlsx)")
        if not target:
            return
        for b in (self.book_pdf, self.book_xlsx):
            b.setEnabled(False)

        def done(path: object) -> None:
            for b in (self.book_pdf, self.book_xlsx):
                b.setEnabled(True)
            messages.info(self, f"Đã lưu sổ theo dõi hồ sơ: {path}")

        def failed(message: str, _detail: str) -> None:
            for b in (self.book_pdf, self.book_xlsx):
                b.setEnabled(True)
            messages.error(self, message)

        self.runner.submit(
            lambda: self.reports.export_tracking_book(start, end, Path(target), fmt),  # type: ignore[attr-defined]
            done, failed)
