"""The training watermark: every page a training station prints says it is worthless.

Applied after rendering, on the finished PDF (one overlay per page, vector text with the
embedded sans font), so no document's own layout knows about it and a document added
later is marked as long as it is stored through ``mark_document``. A station's documents
are never touched (the golden images stay as they are)."""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Protocol

import pikepdf
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from desktop_app.documents.fonts import SANS, SANS_BOLD, register_fonts

TRAINING_MARK = "TẬP HUẤN — KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"


@lru_cache(maxsize=8)
def _overlay(width: float, height: float, text: str) -> bytes:
    """One transparent page of ``width`` × ``height`` points: the text across the
    diagonal, large and pale (the document stays readable), and once more in small
    print along the top edge, where a photocopy or a cropped scan still shows it."""
    register_fonts()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(width, height), invariant=1, initialFontName=SANS_BOLD)
    diagonal = math.hypot(width, height)
    size = min(0.8 * diagonal / max(stringWidth(text, SANS_BOLD, 10), 1) * 10,
               0.09 * diagonal)
    c.saveState()
    c.setFillColor(colors.Color(0.85, 0.25, 0.0, alpha=0.22))
    c.translate(width / 2, height / 2)
    c.rotate(math.degrees(math.atan2(height, width)))
    c.setFont(SANS_BOLD, size)
    c.drawCentredString(0, -size / 3, text)
    c.restoreState()
    c.setFillColor(colors.Color(0.75, 0.2, 0.0))
    c.setFont(SANS, 7)
    c.drawCentredString(width / 2, height - 10, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def stamp(pdf: bytes, text: str = TRAINING_MARK) -> bytes:
    """``pdf`` with ``text`` over every page (each page's own size and orientation)."""
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        marks: dict[tuple[float, float], pikepdf.Pdf] = {}
        try:
            for page in doc.pages:
                box = page.mediabox
                w = float(box[2]) - float(box[0])
                h = float(box[3]) - float(box[1])
                key = (round(w, 2), round(h, 2))
                if key not in marks:
                    marks[key] = pikepdf.open(io.BytesIO(_overlay(key[0], key[1], text)))
                page.add_overlay(marks[key].pages[0])
            doc.save(out, deterministic_id=True)
        finally:
            for mark in marks.values():
                mark.close()
    return out.getvalue()


class _Context(Protocol):
    training: bool


def mark_document(ctx: _Context, pdf: bytes) -> bytes:
    """The one place a document leaving the renderer for the blob store, the preview and
    the printer is marked: on a training station with ``TRAINING_MARK``, elsewhere not
    at all."""
    return stamp(pdf, TRAINING_MARK) if ctx.training else pdf
