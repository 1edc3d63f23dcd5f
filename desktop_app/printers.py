"""Printers installed on this PC, as Qt's print support sees them (it works without a
QApplication and offscreen). Qt's print support needs system libraries that a broken
install may lack: then the lists are None and callers skip the check."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinterInfo

log = logging.getLogger(__name__)


def _printer_info() -> type[QPrinterInfo] | None:
    try:
        from PySide6.QtPrintSupport import QPrinterInfo
    except Exception as exc:  # missing system libraries: no printer check
        log.info("Qt print support unavailable: %s: %s", type(exc).__name__, exc)
        return None
    return QPrinterInfo


def available_printers() -> list[str] | None:
    """Printer names; None when Qt's print support cannot load."""
    info = _printer_info()
    if info is None:
        return None
    return [p.printerName() for p in info.availablePrinters()]


def default_printer() -> str:
    info = _printer_info()
    return info.defaultPrinterName() if info is not None else ""
