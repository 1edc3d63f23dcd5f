"""pdfium (through pypdfium2) is not thread-safe: print jobs on pool threads take this
lock around every use, so two jobs never call into it at once. (QtPdf, which the preview
uses, carries its own copy of pdfium with its own lock.)"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.Lock()
