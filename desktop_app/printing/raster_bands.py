"""Arithmetic of printing a page as a raster without a page-sized bitmap.

Where a page must go to the printer as pixels (Qt's print path), it is rendered at the
printer's resolution divided by a whole number (so the driver scales by an integer and
text edges stay crisp) such that the whole page stays under ``PAGE_BUDGET`` bytes, and
in horizontal bands of at most ``BAND_BUDGET`` bytes, so neither the spool nor this
process ever holds a 133 MB page (A4 at 600 dpi, 32 bits a pixel)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
PAGE_BUDGET = 20 * MIB  # raster a page may send to the spooler
BAND_BUDGET = 4 * MIB  # raster held in memory at once
# Counted at 32 bits a pixel: Windows' GDI print engine expands whatever Qt draws to a
# 32-bit DIB in the spool, whatever format the image had.
BYTES_PER_PIXEL = 4
MIN_DPI = 100


@dataclass(frozen=True)
class Band:
    top: int  # first pixel row of the band
    height: int  # rows


def page_pixels(page_pt: tuple[float, float], dpi: int) -> tuple[int, int]:
    w, h = page_pt
    return max(1, round(w * dpi / 72)), max(1, round(h * dpi / 72))


def raster_bytes(page_pt: tuple[float, float], dpi: int,
                 bytes_per_pixel: int = BYTES_PER_PIXEL) -> int:
    w, h = page_pixels(page_pt, dpi)
    return w * h * bytes_per_pixel


def capped_dpi(page_pt: tuple[float, float], device_dpi: int,
               budget: int = PAGE_BUDGET, bytes_per_pixel: int = BYTES_PER_PIXEL) -> int:
    """The highest ``device_dpi / k`` (k = 1, 2, 3 …) whose page raster fits ``budget``;
    never below ``MIN_DPI`` (a slip stays legible), even if that exceeds the budget."""
    device_dpi = max(device_dpi, MIN_DPI)
    k = 1
    while True:
        dpi = device_dpi // k
        if dpi <= MIN_DPI:
            return MIN_DPI
        if raster_bytes(page_pt, dpi, bytes_per_pixel) <= budget:
            return dpi
        k += 1


def bands(width_px: int, height_px: int, budget: int = BAND_BUDGET,
          bytes_per_pixel: int = BYTES_PER_PIXEL) -> list[Band]:
    """Horizontal bands covering ``height_px`` rows, each within ``budget`` bytes."""
    rows = max(1, budget // max(1, width_px * bytes_per_pixel))
    return [Band(top, min(rows, height_px - top)) for top in range(0, height_px, rows)]
