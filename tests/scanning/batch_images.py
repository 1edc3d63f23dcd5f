"""Scanner-like batch pages for the separator tests and benchmark.

Separator sheets are the real PDF from ``render_separator_sheets`` rasterised by
``pdftoppm``; the other pages are drawn with Pillow: text-like lines, ID-card photocopies
carrying a citizen QR, receipts carrying a dossier QR, blank backs with bleed-through.
Every page then goes through what a feeder and a cheap scanner do to paper: a skew of a
few degrees, a shift, grey paper, light toner, blur, noise and JPEG artefacts. Pages are
written to disk one by one, so a 200-page batch at 300 dpi needs one page of memory."""

from __future__ import annotations

import random
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from desktop_app.documents.fonts import fonts_dir
from desktop_app.scanning.barcodes import make_qr_image
from desktop_app.scanning.separators import SeparatorSpec, render_separator_sheets

MM_PER_INCH = 25.4
A4_MM = (210.0, 297.0)
CITIZEN_QR = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
              "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021")

PageKind = str  # "text", "idcard", "receipt", "blank"


@dataclass(frozen=True)
class Degradation:
    """What the feeder and scanner do to one page."""

    max_skew: float = 2.0  # degrees, either way
    upside_down: float = 0.0  # probability that a separator is fed rotated 180°
    noise: float = 8.0  # grey levels, standard deviation
    blur: float = 0.6  # Gaussian radius in pixels at 300 dpi (scaled with dpi)
    jpeg_quality: int = 75
    light_toner: bool = True  # ink lighter than black, paper darker than white
    ink: tuple[int, int] = (25, 70)  # grey level range of the toner when light_toner
    colour: bool = False  # RGB JPEG (most ADFs) instead of grey


MILD = Degradation()
HARSH = Degradation(max_skew=3.0, upside_down=0.3, noise=14.0, blur=1.0, jpeg_quality=60,
                    colour=True)


@dataclass(frozen=True)
class BatchPage:
    """One scanned page as a capture source would hand it over."""

    path: Path
    side: str | None = None
    kind: str = "text"  # "separator" as well, for checking results
    upside_down: bool = False


@dataclass
class Batch:
    pages: list[BatchPage] = field(default_factory=list)
    # (dossier code, component code, component index, 1-based page numbers) in order;
    # dossier None for pages before the first separator.
    expected: list[tuple[str | None, str | None, int | None, list[int]]] = \
        field(default_factory=list)
    opened_by: list[int | None] = field(default_factory=list)  # separator page per group
    separators: int = 0


def a4_pixels(dpi: int) -> tuple[int, int]:
    return round(A4_MM[0] / MM_PER_INCH * dpi), round(A4_MM[1] / MM_PER_INCH * dpi)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(fonts_dir() / "LiberationSerif-Regular.ttf"), size)


# --- page content ----------------------------------------------------------------------------

def text_page(rng: random.Random, dpi: int) -> Image.Image:
    """A letter-like page: a title in real Vietnamese text, then lines of word blocks."""
    w, h = a4_pixels(dpi)
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    unit = dpi / 300
    margin = int(200 * unit)
    draw.text((margin, int(180 * unit)), "ĐƠN ĐỀ NGHỊ CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH",
              fill=0, font=_font(int(46 * unit)))
    y = int(320 * unit)
    line_h = int(rng.choice((52, 60, 70)) * unit)
    x_height = max(2, int(22 * unit))
    while y < h - margin:
        x = margin + (int(80 * unit) if rng.random() < 0.15 else 0)
        end = w - margin - (int(rng.randint(0, 900) * unit) if rng.random() < 0.2 else 0)
        while x < end:
            word = int(rng.randint(40, 220) * unit)
            draw.rectangle((x, y, min(end, x + word), y + x_height), fill=rng.randint(0, 60))
            x += word + int(24 * unit)
        y += line_h
        if rng.random() < 0.06:
            y += line_h  # paragraph break
    return page


def idcard_page(rng: random.Random, dpi: int, payload: str = CITIZEN_QR) -> Image.Image:
    """A photocopy of both sides of a chip ID card (85.6 × 54 mm), QR at about 2:1 (the
    counter photocopies cards enlarged so the print stays legible)."""
    w, h = a4_pixels(dpi)
    page = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    px = dpi / MM_PER_INCH
    card_w, card_h = int(85.6 * 2 * px), int(54 * 2 * px)
    left = (w - card_w) // 2
    for top in (int(25 * px), int(25 * px) + card_h + int(20 * px)):
        draw.rounded_rectangle((left, top, left + card_w, top + card_h), radius=int(6 * px),
                               outline=0, width=max(2, int(0.6 * px)), fill=205)
        draw.rectangle((left + int(8 * px), top + int(30 * px), left + int(50 * px),
                        top + int(85 * px)), fill=110)  # the photo
        for row in range(6):
            y = top + int((30 + row * 11) * px)
            draw.rectangle((left + int(60 * px), y, left + int(rng.randint(110, 160) * px),
                            y + int(3 * px)), fill=40)
    qr_side = int(40 * px)  # a ~20 mm card QR copied at 2:1
    qr = make_qr_image(payload, box_size=1, border=2, level="M")
    qr = qr.resize((qr_side, qr_side), Image.Resampling.NEAREST)
    page.paste(qr, (left + card_w - qr_side - int(10 * px), int(25 * px) + int(10 * px)))
    return page


def receipt_page(rng: random.Random, dpi: int, code: str) -> Image.Image:
    """A copy of a receipt: text lines and the dossier-code QR in a corner."""
    page = text_page(rng, dpi)
    px = dpi / MM_PER_INCH
    qr = make_qr_image(code, box_size=1, border=4, level="M")
    side = int(30 * px)
    page.paste(qr.resize((side, side), Image.Resampling.NEAREST),
               (page.width - side - int(15 * px), int(15 * px)))
    return page


def blank_page(rng: random.Random, dpi: int, bleed: Image.Image | None = None) -> Image.Image:
    """The empty back of a sheet; ``bleed`` (the front) shows through faintly, mirrored."""
    w, h = a4_pixels(dpi)
    if bleed is None:
        return Image.new("L", (w, h), 255)
    ghost = bleed.convert("L").resize((w, h)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return ghost.point(lambda v: 255 - (255 - v) // 12)  # 8 % of the ink, like thin paper


# --- scanner degradation ---------------------------------------------------------------------

_NOISE: dict[tuple[int, ...], np.ndarray] = {}


def _noise_field(shape: tuple[int, ...]) -> np.ndarray:
    """Unit Gaussian noise for a page size, made once and shifted per page: drawing 9
    million normals for every 300 dpi page would dominate the batch generation time."""
    if shape not in _NOISE:
        _NOISE[shape] = np.random.default_rng(7).standard_normal(shape, dtype=np.float32)
    return _NOISE[shape]


def degrade(page: Image.Image, rng: random.Random, dpi: int, how: Degradation,
            rotate_180: bool = False) -> Image.Image:
    """Feeder skew and shift, grey paper, light toner, blur, sensor noise."""
    paper = rng.randint(222, 245) if how.light_toner else 255
    ink = rng.randint(*how.ink) if how.light_toner else 0
    image = page.convert("L").point(lambda v: ink + (paper - ink) * v // 255)
    if rotate_180:
        image = image.rotate(180)
    angle = rng.uniform(-how.max_skew, how.max_skew)
    shift = (rng.randint(-dpi // 12, dpi // 12), rng.randint(-dpi // 12, dpi // 12))
    image = image.rotate(angle, resample=Image.Resampling.BILINEAR, translate=shift,
                         fillcolor=paper)
    if how.blur:
        image = image.filter(ImageFilter.GaussianBlur(how.blur * dpi / 300))
    if how.noise:
        pixels = np.asarray(image, dtype=np.float32)
        noise = np.roll(_noise_field(pixels.shape), (rng.randrange(pixels.shape[0]),
                                                     rng.randrange(pixels.shape[1])), (0, 1))
        pixels += noise * how.noise
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    if how.colour:
        # A warm paper tint, as colour ADFs deliver it.
        image = Image.merge("RGB", (image, image.point(lambda v: v * 98 // 100),
                                    image.point(lambda v: v * 93 // 100)))
    return image


def save_jpeg(image: Image.Image, path: Path, quality: int, dpi: int) -> Path:
    image.save(path, "JPEG", quality=quality, dpi=(dpi, dpi))
    return path


# --- separator sheets ------------------------------------------------------------------------

def render_separator_images(specs: Sequence[SeparatorSpec], dpi: int, out: Path) -> list[Path]:
    """The separator PDF rasterised page by page by poppler (grey PNG files)."""
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("pdftoppm (poppler-utils) is needed to rasterise separator sheets")
    out.mkdir(parents=True, exist_ok=True)
    pdf = out / "separators.pdf"
    render_separator_sheets(specs, pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(out / "sep")],
                   check=True, capture_output=True)
    pages = sorted(out.glob("sep-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if len(pages) != len(specs):
        raise RuntimeError(f"pdftoppm wrote {len(pages)} pages for {len(specs)} sheets")
    return pages


# --- whole batches ---------------------------------------------------------------------------

Layout = Sequence[tuple[SeparatorSpec | None, Sequence[PageKind]]]


class _Writer:
    def __init__(self, out: Path, dpi: int, rng: random.Random, how: Degradation,
                 duplex: bool) -> None:
        self.out, self.dpi, self.rng, self.how, self.duplex = out, dpi, rng, how, duplex
        self.batch = Batch()

    def _save(self, image: Image.Image, kind: str, side: str | None,
              upside_down: bool = False) -> int:
        number = len(self.batch.pages) + 1
        path = save_jpeg(image, self.out / f"page-{number:04d}.jpg", self.how.jpeg_quality,
                         self.dpi)
        self.batch.pages.append(BatchPage(path, side, kind, upside_down))
        return number

    def separator(self, png: Path, face_down: bool) -> int:
        """Write one separator sheet; returns the page number of its printed side."""
        with Image.open(png) as im:
            front = im.convert("L")
        png.unlink()
        upside_down = self.rng.random() < self.how.upside_down
        sheet = degrade(front, self.rng, self.dpi, self.how, rotate_180=upside_down)
        self.batch.separators += 1
        if not self.duplex:
            return self._save(sheet, "separator", None, upside_down)
        back = degrade(blank_page(self.rng, self.dpi, front), self.rng, self.dpi, self.how)
        if face_down:  # the sheet went in the wrong way up: blank front, separator back
            self._save(back, "separator-back", "front")
            return self._save(sheet, "separator", "back", upside_down)
        number = self._save(sheet, "separator", "front", upside_down)
        self._save(back, "separator-back", "back")
        return number

    def content(self, kind: PageKind, code: str | None) -> list[int]:
        image = _content_image(kind, self.rng, self.dpi, code)
        numbers = [self._save(degrade(image, self.rng, self.dpi, self.how), kind,
                              "front" if self.duplex else None)]
        if self.duplex:  # a one-sided document: its back is blank and stays in the component
            back = degrade(blank_page(self.rng, self.dpi, image), self.rng, self.dpi, self.how)
            numbers.append(self._save(back, "blank", "back"))
        return numbers


def _content_image(kind: PageKind, rng: random.Random, dpi: int, code: str | None
                   ) -> Image.Image:
    if kind == "idcard":
        return idcard_page(rng, dpi)
    if kind == "receipt":
        return receipt_page(rng, dpi, code or "000.00.12.H12-231027-1001")
    if kind == "blank":
        return blank_page(rng, dpi)
    return text_page(rng, dpi)


def write_batch(out: Path, layout: Layout, *, dpi: int = 150, seed: int = 1,
                how: Degradation = MILD, duplex: bool = False,
                face_down: frozenset[int] = frozenset()) -> Batch:
    """Write a batch to ``out`` and return its pages and the expected split.

    ``layout`` lists groups in feed order: a separator spec (None for loose pages before
    the first separator) and the kinds of the pages after it. ``face_down`` holds the
    positions (in ``layout``) of separators fed the wrong way up in a duplex batch."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    specs = [spec for spec, _ in layout if spec is not None]
    pngs = iter(render_separator_images(specs, dpi, out / "sheets")) if specs else iter(())
    writer = _Writer(out, dpi, rng, how, duplex)
    for position, (spec, kinds) in enumerate(layout):
        opened = writer.separator(next(pngs), position in face_down) if spec else None
        writer.batch.opened_by.append(opened)
        numbers: list[int] = []
        for kind in kinds:
            numbers += writer.content(kind, spec.dossier_code if spec else None)
        if spec is None:
            writer.batch.expected.append((None, None, None, numbers))
        else:
            writer.batch.expected.append((spec.dossier_code, spec.component_code,
                                          spec.component_index, numbers))
    return writer.batch
