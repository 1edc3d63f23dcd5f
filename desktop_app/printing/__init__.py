"""Sending a slip PDF to a printer without rasterising whole pages in the app.

One interface (``PrintBackend.print_pdf``) with one implementation per platform:
CUPS receives the PDF itself (``cups.py``), Windows draws the PDF straight onto the
printer's device context through pdfium (``windows_gdi.py``), and anything else goes
through Qt's print support in capped-resolution bands (``qt_raster.py``). ``choose.py``
picks the one this machine can run."""

from desktop_app.printing.errors import (
    JobRefused,
    PrinterNotFound,
    PrintError,
    PrintServiceDown,
)
from desktop_app.printing.job import Control, PrintBackend, PrintJob, PrintOutcome

__all__ = [
    "Control",
    "JobRefused",
    "PrintBackend",
    "PrintError",
    "PrintJob",
    "PrintOutcome",
    "PrintServiceDown",
    "PrinterNotFound",
]
