"""Every printed document looks like its reviewed reference image (``reference/``).

A failure writes the actual pages and diff images (changes in red) to the test's
tmp_path and names them. When a change is intended: look at them, then run
``.venv/bin/python -m tests.golden.regenerate NAME`` and look at the new references
before committing."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ContentStream

from desktop_app.clock import FixedClock
from desktop_app.context import AppContext
from desktop_app.documents.slips import ReceiptData, render_receipt
from tests.conftest import ON_POSTGRESQL
from tests.golden import documents, harness

# Rendering from data alone touches no database: run once, in the SQLite pass.
sqlite_pass_only = pytest.mark.skipif(ON_POSTGRESQL, reason="no database involved; "
                                      "run in the SQLite pass")


@pytest.mark.nodb
@sqlite_pass_only
@pytest.mark.parametrize("name", list(documents.PLAIN))
def test_document_looks_like_its_reference(name: str, tmp_path: Path) -> None:
    harness.check_document(name, documents.PLAIN[name](), tmp_path)


def test_reissued_receipt_looks_like_its_reference(ctx: AppContext, clock: FixedClock,
                                                   tmp_path: Path) -> None:
    """Printed by the return counter from the stored dossier: on either database."""
    harness.check_document(documents.REISSUED, documents.reissued_receipt(ctx, clock),
                           tmp_path)


def _fonts_that_draw(contents: Any, resources: Any, reader: PdfReader,
                     found: dict[str, bool]) -> None:
    """Each font some text is shown with (in a page or a form it draws): whether the
    file carries the font program."""
    if resources is None:
        return
    resources = resources.get_object()
    fonts = resources.get("/Font") or {}
    current = None
    for operands, operator in ContentStream(contents, reader).operations:
        if operator == b"Tf":
            current = fonts[operands[0]].get_object()
        elif operator in (b"Tj", b"TJ", b"'", b'"') and current is not None:
            descriptor = current.get("/FontDescriptor")
            embedded = descriptor is not None and any(
                key in descriptor.get_object() for key in ("/FontFile", "/FontFile2",
                                                           "/FontFile3"))
            found[str(current["/BaseFont"])] = embedded
    for xobject in (resources.get("/XObject") or {}).values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            _fonts_that_draw(xobject, xobject.get("/Resources"), reader, found)


@pytest.mark.nodb
@sqlite_pass_only
@pytest.mark.parametrize("name", list(documents.PLAIN))
def test_text_is_drawn_with_the_bundled_fonts_only(name: str) -> None:
    """What pdfium draws does not depend on the machine's fonts: every font that shows
    text is a bundled Liberation font carried in the file."""
    reader = PdfReader(io.BytesIO(documents.PLAIN[name]()))
    found: dict[str, bool] = {}
    for page in reader.pages:
        _fonts_that_draw(page.get_contents(), page.get("/Resources"), reader, found)
    assert found, name
    assert all("+Liberation" in font and embedded for font, embedded in found.items()), found


@pytest.mark.nodb
@sqlite_pass_only
@pytest.mark.parametrize("size", ["A4", "A5"])
def test_a_changed_digit_fails_with_the_pages_to_look_at(size: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """The smallest change that matters: the book's sequence number 12 -> 13."""

    def thirteen(data: ReceiptData, page_size: str = "A4") -> bytes:
        return render_receipt(dataclasses.replace(data, sequence_number=13),
                              page_size)  # type: ignore[arg-type]

    monkeypatch.setattr(documents, "render_receipt", thirteen)
    name = f"receipt-{size.lower()}-1"
    with pytest.raises(AssertionError) as failed:
        harness.check_document(name, documents.receipt(1, size), tmp_path)
    message = str(failed.value)
    assert "page 1:" in message and "page 2:" in message
    for page in (1, 2):
        for kind in ("actual", "diff"):
            path = tmp_path / f"{name}-p{page}-{kind}.png"
            assert path.is_file() and str(path) in message
    diff = harness.load(tmp_path / f"{name}-p1-diff.png")  # greyscale view of the red
    assert diff.size == harness.load(harness.reference_path(name, 1)).size


@pytest.mark.nodb
@sqlite_pass_only
def test_a_missing_page_fails(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="2 pages, the reference has 4"):
        harness.check_document("receipt-a4-8", documents.receipt(1, "A4"), tmp_path)


@pytest.mark.nodb
@sqlite_pass_only
def test_every_reference_image_belongs_to_a_document() -> None:
    names = {*documents.PLAIN, documents.REISSUED}
    stored = sorted(p.name for p in harness.REFERENCE_DIR.glob("*.png"))
    expected = sorted(p.name for n in names for p in harness.reference_pages(n))
    assert stored == expected
    for path in harness.REFERENCE_DIR.glob("*.png"):
        with Image.open(path) as im:
            assert im.mode == "L", path  # greyscale keeps the references small
