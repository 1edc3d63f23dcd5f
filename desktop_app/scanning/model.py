"""Shared types of the digitization capability: profiles, rules, pages and outputs.

Plain dataclasses so capture drivers, the image pipeline, the CLI and the Qt studio all
speak the same language without importing each other."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from sync_contract import settings_rules

MM_PER_INCH = 25.4


class ColourMode(StrEnum):
    AUTO = "auto"  # decided per page from its content
    COLOUR = "colour"
    GREY = "grey"
    BILEVEL = "bilevel"


COLOUR_MODE_VI = {
    ColourMode.AUTO: "Tự động",
    ColourMode.COLOUR: "Màu",
    ColourMode.GREY: "Xám",
    ColourMode.BILEVEL: "Đen trắng",
}

# ISO 216 portrait sizes in millimetres (the largest format a profile may ask for is A0).
PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A5": (148, 210),
    "A4": (210, 297),
    "A3": (297, 420),
    "A2": (420, 594),
    "A1": (594, 841),
    "A0": (841, 1189),
}


def page_pixels(size: str, dpi: int) -> tuple[int, int]:
    w_mm, h_mm = PAGE_SIZES_MM[size]
    return round(w_mm / MM_PER_INCH * dpi), round(h_mm / MM_PER_INCH * dpi)


# The legal floor for digitized documents (DOMAIN.md), the legibility floor of JPEG and
# the paper sources are the rules a province's profiles follow too: one definition.
PAPER_SOURCES = settings_rules.PAPER_SOURCES
MIN_DPI = settings_rules.MIN_DPI
MAX_DPI = settings_rules.MAX_DPI
MIN_JPEG_QUALITY = settings_rules.MIN_JPEG_QUALITY


@dataclass(frozen=True)
class ScanProfile:
    """How to capture and process one kind of paper. ``locked`` profiles are set by a
    technician; clerks can use them but not change them."""

    name: str
    label_vi: str
    dpi: int = 300
    mode: ColourMode = ColourMode.AUTO
    duplex: bool = False
    page_size: str = "A4"
    drop_blank: bool = True
    deskew: bool = True
    crop_borders: bool = True
    jpeg_quality: int = 85
    locked: bool = False
    # Glass or document feeder; "auto" takes the feeder when the device has one.
    paper: str = "auto"
    # Add an invisible Vietnamese text layer (OCR) when Tesseract is installed.
    ocr: bool = False

    def __post_init__(self) -> None:
        if self.paper not in PAPER_SOURCES:
            raise ValueError(f"unknown paper source {self.paper!r}")
        if self.page_size not in PAGE_SIZES_MM:
            raise ValueError(f"unknown page size {self.page_size!r}")
        if not MIN_DPI <= self.dpi <= MAX_DPI:
            raise ValueError(f"dpi {self.dpi} out of range")
        if not MIN_JPEG_QUALITY <= self.jpeg_quality <= 100:
            raise ValueError(f"jpeg quality {self.jpeg_quality} out of range")

    @property
    def large_format(self) -> bool:
        return self.page_size in ("A0", "A1", "A2")


@dataclass(frozen=True)
class DigitizationRules:
    """Legal and provincial limits (DOMAIN.md, "Digitization rules"); settings with these
    defaults. ``max_pixels`` protects against decompression bombs in imported files: an A0
    page at 400 dpi is ~248 MP, so 260 MP admits every real scan and refuses absurd ones."""

    min_dpi: int = MIN_DPI
    max_file_bytes: int = 10 * 1024 * 1024
    min_jpeg_quality: int = MIN_JPEG_QUALITY  # when shrinking to fit the size limit
    max_pixels: int = 260_000_000
    max_dpi: int = MAX_DPI
    max_input_bytes: int = 2 * 1024 * 1024 * 1024


class CancelledError(Exception):
    """The clerk pressed Cancel; whatever was finished stays, nothing is half-written."""


class CancelToken:
    """Thread-safe cancel flag handed to long work (capture, processing, assembly)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise CancelledError("cancelled")


def check_cancelled(cancel: CancelToken | None) -> None:
    """Raise ``CancelledError`` if ``cancel`` is given and was cancelled."""
    if cancel is not None:
        cancel.raise_if_cancelled()


@dataclass(frozen=True)
class CapturedFile:
    """One file a capture source delivered into the work directory (an image of one page,
    or a multi-page TIFF/PDF from a hot folder or an import)."""

    path: Path
    source: str  # "sane:test:0", "hotfolder:/srv/scan", "import", "camera" …
    dpi: int | None = None  # what the driver said it scanned at, when it says
    side: str = "front"  # "front" / "back" for duplex
    original_name: str = ""


@dataclass
class ProcessedPage:
    """A page after the image pipeline: an encoded image ready to be embedded in a PDF as
    is (JPEG for colour/grey, CCITT G4 TIFF for bilevel), plus a small preview."""

    image_path: Path
    preview_path: Path
    width_px: int
    height_px: int
    dpi: int
    mode: ColourMode
    encoded_bytes: int
    source: str = ""
    blank: bool = False
    skew_degrees: float = 0.0
    cropped: bool = False
    rotation: int = 0  # clerk's rotation, applied as the PDF page /Rotate (no re-encoding)
    notes: list[str] = field(default_factory=list)  # Vietnamese, shown in quality badges

    @property
    def size_mm(self) -> tuple[float, float]:
        return (self.width_px / self.dpi * MM_PER_INCH, self.height_px / self.dpi * MM_PER_INCH)


@dataclass(frozen=True)
class PdfMetadata:
    title: str
    dossier_code: str | None = None
    component: str | None = None
    clerk: str | None = None
    created_at_iso: str | None = None
    agency: str | None = None


@dataclass(frozen=True)
class OutputPart:
    """One PDF file written for a component (``part``/``parts`` > 1 when it was split to
    stay under the per-file limit)."""

    path: Path
    pages: int
    bytes: int
    part: int
    parts: int
    dpi: int  # lowest page dpi in the file
    modes: tuple[ColourMode, ...]
    sha256: str
