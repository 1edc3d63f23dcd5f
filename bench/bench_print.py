"""Printing a receipt slip: spool size, memory and UI-thread stalls, old way vs new.

    .venv/bin/python bench/bench_print.py            # A4 and A5 receipts
    .venv/bin/python bench/bench_print.py --paper A5

Each measurement runs in a fresh child process (peak RSS is a per-process high-water
mark), printing one slip (two pages: Liên 1 and Liên 2) to a printer of a private CUPS
scheduler (started here as root, as in tests/support/cups_server.py) whose spool is read
afterwards, so "spool" is what the app really handed to the print system:

- old: the previous ``print_pdf`` — QtPdf renders each page to a QImage at 600 dpi on the
  UI thread and paints it on a QPrinter (Qt turns it into a PDF for CUPS here; on
  Windows GDI spools the 32-bit bitmap itself, i.e. the "raster" column);
- cups: ``CupsBackend`` on a worker thread — the spool is the slip PDF;
- qt-raster: the fallback ``QtRasterBackend`` on a worker thread — bands at a capped dpi;
- cups→PCL (when the driver runs): what CUPS's own filters make of the PDF for a generic
  PCL laser (HP LaserJet driver, file device): the bytes that reach such a printer.

A 5 ms watchdog QTimer on the UI thread records the longest gap between its ticks while
printing: the UI stall. Without root (no private cupsd) the old and fallback ways print to
a PDF file instead and the CUPS rows are skipped."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIB = 1024 * 1024
PRINTER = "bench_slip"


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_pdf(paper: str) -> bytes:
    from datetime import datetime

    from desktop_app.documents.slip_parts import AgencyHeader, FeeLine
    from desktop_app.documents.slips import ComponentLine, ReceiptData, render_receipt

    code = "000.00.12.H12-231027-1001"
    comps = [ComponentLine(f"Giấy tờ số {i + 1}: bản sao giấy chứng nhận quyền sử dụng đất",
                           1, i % 2, 1) for i in range(3)]
    data = ReceiptData(
        AgencyHeader("UBND xã Nà Phặc", "UBND tỉnh Thái Nguyên", "Nà Phặc"), code,
        datetime(2023, 10, 27, 9, 32), datetime(2023, 11, 3, 9, 32), "Hoàng Thị Mai",
        "019190001234", "Thôn Nà Lẹng, xã Nà Phặc", "0912345678", "mai@example.vn",
        "Cấp Giấy xác nhận tình trạng hôn nhân", "1.004873", comps, 1, "05 ngày làm việc",
        "Tại Bộ phận tiếp nhận và trả kết quả", [FeeLine("Lệ phí", 2000)], "01", 12,
        "Triệu Thị Hương", f"https://dichvucong.example.vn/tra-cuu?ma={code}")
    return render_receipt(data, paper)  # type: ignore[arg-type]


# --- child: one measurement ----------------------------------------------------------------


def old_print(pdf: bytes, printer: Any) -> int:
    """The previous ui/slip_preview.print_pdf, verbatim in behaviour."""
    import tempfile

    from PySide6.QtCore import QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtPdf import QPdfDocument

    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(pdf)
        fh.flush()
        doc = QPdfDocument()
        doc.load(fh.name)
        painter = QPainter()
        painter.begin(printer)
        dpi = printer.resolution()
        for i in range(doc.pageCount()):
            if i:
                printer.newPage()
            points = doc.pagePointSize(i)
            size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
            painter.drawImage(0, 0, doc.render(i, size))
        painter.end()
        doc.close()
    return 2


def child(method: str, paper: str, out_pdf: str) -> dict[str, Any]:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QThreadPool, QTimer
    from PySide6.QtPrintSupport import QPrinter
    from PySide6.QtWidgets import QApplication

    from desktop_app.printing.cups import CupsBackend
    from desktop_app.printing.job import NoControl, PrintJob
    from desktop_app.printing.qt_raster import QtRasterBackend, make_printer, set_paper
    from desktop_app.printing.raster_bands import bands, capped_dpi, page_pixels, raster_bytes

    app = QApplication([])
    pdf = sample_pdf(paper)
    job = PrintJob(pdf, "" if out_pdf else PRINTER, 1, paper, "bench")  # type: ignore[arg-type]

    def qprinter() -> QPrinter:
        if out_pdf:
            p = QPrinter(QPrinter.PrinterMode.HighResolution)
            p.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            p.setOutputFileName(out_pdf)
        else:
            p = make_printer(job)
        p.setResolution(600)  # the brief's baseline: a 600-dpi laser
        set_paper(p, job.paper)
        return p

    # Warm up what every way loads anyway (QtPdf, pdfium, fonts) outside the measurement.
    from PySide6.QtPdf import QPdfDocument  # noqa: F401
    rss0 = rss_mib()
    gaps: list[int] = []
    clock = QElapsedTimer()
    watchdog = QTimer()
    watchdog.setInterval(5)

    finished = threading.Event()

    def tick() -> None:
        gaps.append(clock.restart())
        if finished.is_set():  # set by either thread; quit from this one
            loop.quit()

    loop = QEventLoop()
    watchdog.timeout.connect(tick)
    result: dict[str, Any] = {}

    def run_old() -> None:
        t = time.perf_counter()
        old_print(pdf, qprinter())
        result["seconds"] = time.perf_counter() - t
        finished.set()

    def run_worker() -> None:
        t = time.perf_counter()

        def work() -> None:  # on the pool thread, as in the preview dialog
            if method == "cups":
                env = dict(os.environ)
                result["outcome"] = CupsBackend(env=env).print_pdf(job, NoControl()).job_id
            else:
                QtRasterBackend().print_to(qprinter(), job, NoControl())
            result["seconds"] = time.perf_counter() - t
            finished.set()

        from PySide6.QtCore import QRunnable

        class Run(QRunnable):
            def run(self) -> None:
                work()

        QThreadPool.globalInstance().start(Run())

    clock.start()
    watchdog.start()
    QTimer.singleShot(30, run_old if method == "old" else run_worker)
    loop.exec()
    watchdog.stop()
    QThreadPool.globalInstance().waitForDone()
    pages = 2
    from desktop_app.printing.job import PAPER_POINTS

    page_pt = PAPER_POINTS[job.paper]
    w, h = page_pixels(page_pt, capped_dpi(page_pt, 600))
    raster = {"old": raster_bytes(page_pt, 600),  # a 32-bit page
              "cups": 0,
              "qt-raster": max(b.height for b in bands(w, h)) * w}  # an 8-bit grey band
    return {"method": method, "paper": paper, "pages": pages, "pdf_bytes": len(pdf),
            "stall_ms": max(gaps[1:] or [0]), "peak_rss_mib": peak_rss_mib(),
            "rss_before_mib": rss0, "raster_at_once": raster[method],
            "seconds": result.get("seconds", 0.0), "app": bool(app)}


# --- parent: start cupsd, run the children, read the spool ---------------------------------


def spool_files(root: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (root / "spool").glob("d*")}


def run_child(method: str, paper: str, env: dict[str, str], out_pdf: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", method, "--paper", paper,
                           "--out-pdf", out_pdf], capture_output=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{method} {paper} failed:\n{done.stderr.decode()[-3000:]}")
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paper", choices=["A4", "A5"], action="append")
    ap.add_argument("--child")
    ap.add_argument("--out-pdf", default="")
    args = ap.parse_args()
    papers = args.paper or ["A4", "A5"]
    if args.child:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        print(json.dumps(child(args.child, papers[0], args.out_pdf)))
        return

    from tests.support.cups_server import CupsServer, cannot_run_reason

    reason = cannot_run_reason()
    server: CupsServer | None = None
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if not reason:
        server = CupsServer()
        server.start()
        server.add_printer(PRINTER)
        env["CUPS_SERVER"] = server.socket_path
    else:
        print(f"(no private cupsd: {reason}; printing to PDF files, CUPS rows skipped)")
    rows: list[dict[str, Any]] = []
    tmp = Path(server.root if server else "/tmp")
    try:
        for paper in papers:
            for method in ("old", "cups", "qt-raster"):
                if method == "cups" and server is None:
                    continue
                out_pdf = "" if server else str(tmp / f"bench-{method}-{paper}.pdf")
                before = spool_files(server.root) if server else {}
                row = run_child(method, paper, env, out_pdf)
                if server:
                    new = [size for name, size in spool_files(server.root).items()
                           if name not in before]
                    row["spool"] = sum(new)
                else:
                    row["spool"] = Path(out_pdf).stat().st_size
                rows.append(row)
            if server:
                rows.append(pcl_row(server, paper))
    finally:
        if server:
            server.stop()
    print_table(rows)


def pcl_row(server: Any, paper: str) -> dict[str, Any]:
    """CUPS's own conversion for a generic PCL laser: the bytes that reach the printer."""
    from desktop_app.printing.cups import CupsBackend
    from desktop_app.printing.job import NoControl, PrintJob
    from tests.support.cups_server import job_number

    row: dict[str, Any] = {"method": "cups→PCL", "paper": paper, "pages": 2}
    try:
        device = server.add_printer(f"pcl_{paper}", "drv:///sample.drv/laserjet.ppd")
        outcome = CupsBackend(env=server.env).print_pdf(
            PrintJob(sample_pdf(paper), f"pcl_{paper}", 1, paper), NoControl())  # type: ignore[arg-type]
        server.wait_job_state(job_number(outcome.job_id))
        row["spool"] = device.stat().st_size
    except Exception as exc:  # no ghostscript/driver: say so in the table
        row["error"] = repr(exc)[:60]
    return row


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (f"{'way':<10} {'paper':<5} {'spool/page':>12} {'raster held':>12} "
            f"{'peak RSS':>9} {'Δ RSS':>8} {'UI stall':>9} {'time':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['method']:<10} {r['paper']:<5} {r['error']}")
            continue
        per_page = r["spool"] / r["pages"]
        spool = f"{per_page / 1024:,.0f} KiB" if per_page < MIB else f"{per_page / MIB:,.1f} MiB"
        if "peak_rss_mib" not in r:  # the driver's output row
            print(f"{r['method']:<10} {r['paper']:<5} {spool:>12} {'(in CUPS)':>12}")
            continue
        held = r["raster_at_once"]
        held_s = "none" if not held else f"{held / MIB:,.1f} MiB"
        print(f"{r['method']:<10} {r['paper']:<5} {spool:>12} {held_s:>12} "
              f"{r['peak_rss_mib']:>6.0f} MiB {r['peak_rss_mib'] - r['rss_before_mib']:>4.0f} MiB"
              f" {r['stall_ms']:>6} ms {r['seconds']:>6.2f}s")
    print("\nspool/page: bytes the app handed to the print system per page (read from the "
          "private cupsd's spool);\nraster held: largest bitmap in the app at once; UI stall: "
          "longest gap of a 5 ms timer on the UI thread while printing.")


if __name__ == "__main__":
    main()
