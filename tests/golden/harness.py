"""Render a PDF to greyscale PNG pages with pdfium and compare them with the reference
images under ``reference/<name>-p<N>.png``.

The tolerance: a pixel counts as changed when its grey level differs by more than
``GREY_STEP`` (of 255), and a page fails when more than ``MAX_CHANGED`` of its pixels
changed. The step sits above anti-aliasing noise (a glyph edge a fraction of a pixel
off moves its grey by a few levels to a few tens) and below any change of ink (a stroke
appearing or disappearing moves it by about 200). The count is tight on purpose, because
what matters on these papers is small: a sequence number 12 -> 13 changes 44 pixels of an
A4 page and 23 of an A5 page at 100 dpi, one word of the tracking book's 8 pt notes
183, one letter of a name 1,288 (the name is printed twice and the line reflows). A
tolerance of 0.2 % of the page (~1,900 pixels on A4) would let all of those through.
The same pdfium renders the same PDF to the same pixels; a pdfium upgrade that moves
more edge pixels than this is a visible change too: look at the diff images and
regenerate. ``test_golden_documents.py`` checks that a one-digit change fails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium  # type: ignore[import-untyped]
from PIL import Image, ImageChops

DPI = 100  # A4 is 827 x 1170 pixels: 9 pt text is still legible when a change is reviewed
GREY_STEP = 48  # grey levels: above pdfium's anti-aliasing jitter, below any ink change
# Of a page's pixels: 0.002 % is 19 pixels on A4, 9 on A5 (a changed digit is 23 or more).
MAX_CHANGED = 0.00002
REFERENCE_DIR = Path(__file__).parent / "reference"
_PAGE_RE = re.compile(r"^(?P<name>.+)-p(?P<page>\d+)\.png$")


def rasterise(pdf: bytes, dpi: int = DPI) -> list[Image.Image]:
    """Each page of ``pdf`` as an 8-bit greyscale image at ``dpi``."""
    doc = pdfium.PdfDocument(pdf)
    try:
        pages: list[Image.Image] = []
        for index in range(len(doc)):
            page = doc[index]
            try:
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                pages.append(bitmap.to_pil().convert("L"))
            finally:
                page.close()
        return pages
    finally:
        doc.close()


def reference_path(name: str, page: int, folder: Path = REFERENCE_DIR) -> Path:
    return folder / f"{name}-p{page}.png"


def reference_pages(name: str, folder: Path = REFERENCE_DIR) -> list[Path]:
    """The stored pages of ``name``, in page order."""
    found: list[tuple[int, Path]] = []
    for path in folder.glob(f"{name}-p*.png"):
        match = _PAGE_RE.match(path.name)
        if match and match["name"] == name:
            found.append((int(match["page"]), path))
    return [path for _, path in sorted(found)]


def load(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("L")


@dataclass(frozen=True)
class PageDiff:
    page: int
    changed: int  # pixels whose grey level moved by more than GREY_STEP
    total: int

    @property
    def fraction(self) -> float:
        return self.changed / self.total

    @property
    def ok(self) -> bool:
        return self.fraction <= MAX_CHANGED


def changed_mask(actual: Image.Image, expected: Image.Image) -> Image.Image:
    """255 where the two (same-sized) pages differ by more than ``GREY_STEP``, else 0."""
    return ImageChops.difference(actual, expected).point(
        lambda v: 255 if v > GREY_STEP else 0)


def compare_page(page: int, actual: Image.Image, expected: Image.Image) -> PageDiff:
    assert actual.size == expected.size
    changed = changed_mask(actual, expected).histogram()[255]
    return PageDiff(page, changed, actual.width * actual.height)


def diff_image(actual: Image.Image, expected: Image.Image) -> Image.Image:
    """The actual page faded to a light grey, with every changed pixel in red."""
    faded = actual.point(lambda v: 255 - (255 - v) * 3 // 10).convert("RGB")
    red = Image.new("RGB", actual.size, (220, 0, 0))
    return Image.composite(red, faded, changed_mask(actual, expected))


def save_png(image: Image.Image, path: Path) -> None:
    """Greyscale, optimised: text pages at 100 dpi are 40-90 kB each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image.convert("L").save(path, format="PNG", optimize=True)


def check_document(name: str, pdf: bytes, out_dir: Path,
                   folder: Path = REFERENCE_DIR) -> None:
    """Fail with the paths of the actual pages and diff images (written to ``out_dir``)
    unless ``pdf`` renders like the reference pages of ``name``."""
    actual = rasterise(pdf)
    stored = reference_pages(name, folder)
    if not stored:
        raise AssertionError(f"no reference pages for {name!r} in {folder}; create them "
                             f"with: .venv/bin/python -m tests.golden.regenerate {name}")
    problems: list[str] = []
    written: list[Path] = []
    if len(actual) != len(stored):
        problems.append(f"{len(actual)} pages, the reference has {len(stored)}")
    for number, (page, ref_path) in enumerate(zip(actual, stored, strict=False), start=1):
        expected = load(ref_path)
        if page.size != expected.size:
            problems.append(f"page {number}: {page.size[0]}x{page.size[1]} px, "
                            f"the reference {expected.size[0]}x{expected.size[1]}")
            continue
        diff = compare_page(number, page, expected)
        if not diff.ok:
            problems.append(f"page {number}: {diff.changed} pixels changed "
                            f"({diff.fraction:.4%} > {MAX_CHANGED:.4%})")
            diff_path = out_dir / f"{name}-p{number}-diff.png"
            diff_path.parent.mkdir(parents=True, exist_ok=True)
            diff_image(page, expected).save(diff_path, optimize=True)
            written.append(diff_path)
    if problems:
        for number, page in enumerate(actual, start=1):
            path = out_dir / f"{name}-p{number}-actual.png"
            save_png(page, path)
            written.append(path)
        listing = "\n  ".join(str(p) for p in sorted(written))
        raise AssertionError(
            f"{name} does not look like its reference ({folder}): "
            + "; ".join(problems) + f"\nwritten:\n  {listing}\n"
            "If the change is intended, look at every page, then run "
            f".venv/bin/python -m tests.golden.regenerate {name}")


def write_reference(name: str, pdf: bytes, folder: Path = REFERENCE_DIR,
                    force: bool = False) -> list[str]:
    """Store the pages of ``pdf`` as the reference of ``name``; lines saying what changed.

    A page within the tolerance of the stored one is left as it is (unless ``force``), so
    rerunning this on an unchanged document leaves git clean; pages beyond the new page
    count are removed."""
    report: list[str] = []
    pages = rasterise(pdf)
    for number, page in enumerate(pages, start=1):
        path = reference_path(name, number, folder)
        if path.exists():
            expected = load(path)
            if (not force and expected.size == page.size
                    and compare_page(number, page, expected).ok):
                continue
            report.append(f"changed  {path}")
        else:
            report.append(f"new      {path}")
        save_png(page, path)
    for path in reference_pages(name, folder)[len(pages):]:
        path.unlink()
        report.append(f"removed  {path}")
    return report
