"""Which way of printing this machine uses: CUPS where it is installed (Linux, macOS),
pdfium on the printer's DC on Windows, Qt's banded raster otherwise. A technician can
force one with ``MOTCUA_PRINT_BACKEND`` (cups, windows-gdi, qt-raster), e.g. to work
around a printer driver that misbehaves with one of them."""

from __future__ import annotations

import logging
import os
import sys

from desktop_app.printing.cups import CupsBackend, cups_available
from desktop_app.printing.job import PrintBackend
from desktop_app.printing.windows_gdi import WindowsGdiBackend, windows_gdi_available

log = logging.getLogger(__name__)

BACKENDS = ("cups", "windows-gdi", "qt-raster")


def backend_named(name: str) -> PrintBackend:
    if name == "cups":
        return CupsBackend()
    if name == "windows-gdi":
        return WindowsGdiBackend()
    if name == "qt-raster":
        # Loaded only when used: it pulls in Qt's print support and QtPdf.
        from desktop_app.printing.qt_raster import QtRasterBackend

        return QtRasterBackend()
    raise ValueError(f"unknown print backend {name!r}; one of {', '.join(BACKENDS)}")


def choose_backend(platform: str = sys.platform, env: dict[str, str] | None = None) -> str:
    forced = (os.environ if env is None else env).get("MOTCUA_PRINT_BACKEND", "").strip()
    if forced:
        if forced in BACKENDS:
            return forced
        log.warning("MOTCUA_PRINT_BACKEND=%r is not one of %s; choosing by platform",
                    forced, ", ".join(BACKENDS))
    if platform == "win32":
        return "windows-gdi" if windows_gdi_available() else "qt-raster"
    return "cups" if cups_available() else "qt-raster"


def default_backend() -> PrintBackend:
    return backend_named(choose_backend())
