"""Printers installed on this PC, as Qt's print support sees them (it works without a
QApplication and offscreen). Qt's print support needs system libraries that a broken
install may lack: then the lists are None and callers skip the check."""

from __future__ import annotations

import logging
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PrinterChoice:
    """The printers a slip can go to, and the one chosen without asking."""

    installed: list[str]
    default: str  # the system default printer ("" if none)
    provisioned: str  # this PC's receipt printer from provisioning ("" if none)

    @property
    def provisioned_missing(self) -> bool:
        """A receipt printer was provisioned but is not installed on this PC."""
        return bool(self.provisioned) and self.provisioned not in self.installed

    @property
    def preselected(self) -> str:
        """The provisioned printer if installed, else the system default, else the first
        installed one, else "" (the system's choice)."""
        if self.provisioned and not self.provisioned_missing:
            return self.provisioned
        if self.default and self.default in self.installed:
            return self.default
        return self.installed[0] if self.installed else ""


def printer_choice(provisioned: str, installed: list[str] | None = None,
                   default: str | None = None) -> PrinterChoice:
    """What this PC can print to; ``installed``/``default`` given by tests and callers
    that already asked, read from Qt's print support otherwise."""
    names = installed if installed is not None else (available_printers() or [])
    return PrinterChoice(list(names), default_printer() if default is None else default,
                         provisioned)
