"""Page count and page sizes of a PDF, read without rendering anything."""

from __future__ import annotations

import io

import pikepdf


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of each page's visible box, rotation applied."""
    sizes: list[tuple[float, float]] = []
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            box = page.cropbox
            w, h = abs(float(box[2]) - float(box[0])), abs(float(box[3]) - float(box[1]))
            rotate = int(page.obj.get("/Rotate", 0)) % 180
            sizes.append((h, w) if rotate else (w, h))
    return sizes


def page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)
