"""A separator batch written as ONE multi-page file (as ADF software often does) is filed
into its dossiers' components like a folder of single pages."""

from __future__ import annotations

import io
import subprocess
import unicodedata
from pathlib import Path

import img2pdf
import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from desktop_app.accounts import ClerkInfo
from desktop_app.context import AppContext
from desktop_app.digitization import DigitizationService
from desktop_app.domain.errors import DomainError
from desktop_app.intake.drafts import PersonInfo
from desktop_app.intake.service import IntakeService
from desktop_app.scanning.batch_filing import file_batch
from desktop_app.scanning.model import CapturedFile
from desktop_app.scanning.studio import (
    QuietControl,
    separator_sheets_for,
    separator_sheets_for_codes,
)
from local_db.models import ComponentFile

from ..test_gui_studio import text_page
from ..test_intake import complete_draft, intake  # noqa: F401  (fixture)


def _batch_pages(ctx: AppContext, ids: list[int], tmp_path: Path) -> list[Path]:
    (tmp_path / "sep.pdf").write_bytes(separator_sheets_for(ctx, ids))
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(tmp_path / "sep.pdf"),
                    str(tmp_path / "sep")], check=True)
    pages: list[Path] = []
    for i, sep in enumerate(sorted(tmp_path.glob("sep-*.png"))):
        pages.append(sep)
        pages += [text_page(tmp_path / f"c{i}-{k}.png", dpi=150, seed=i * 3 + k)
                  for k in range(i + 1)]
    return pages


@pytest.mark.parametrize("container", ["tiff", "pdf"])
def test_one_multipage_file_is_split_and_filed(
    tmp_path: Path, ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
    container: str,
) -> None:
    out = intake.receive(complete_draft(intake, "9.000000"), clerk)
    other = intake.receive(complete_draft(intake, "9.000000"), clerk)
    pages = _batch_pages(ctx, [out.dossier_id, other.dossier_id], tmp_path)
    assert len(pages) == 5  # sep, 1 page, sep, 2 pages
    if container == "tiff":
        batch = tmp_path / "lo-quet.tif"
        images = [Image.open(p).convert("L") for p in pages]
        images[0].save(batch, save_all=True, append_images=images[1:], compression="tiff_lzw",
                       dpi=(150, 150))
    else:
        batch = tmp_path / "lo-quet.pdf"
        jpegs = []
        for p in pages:
            j = p.with_suffix(".jpg")
            Image.open(p).convert("L").save(j, quality=90, dpi=(150, 150))
            jpegs.append(str(j))
        batch.write_bytes(img2pdf.convert(jpegs))
    svc = DigitizationService(ctx)
    control = QuietControl()
    report = file_batch(ctx, clerk, [CapturedFile(batch, "import")],
                        svc.profile("a4-auto"), svc.work_dir() / "t", control)
    assert report.pages_read == 5 and report.separators == 2, report.warnings
    assert [(f.dossier_code, f.pages) for f in report.filed] == [(out.code, 1), (other.code, 2)]
    assert report.unfiled_pages == 0 and control.warnings == []
    with ctx.db.read() as s:
        rows = s.scalars(select(ComponentFile).order_by(ComponentFile.id)).all()
        assert [(r.component.dossier_id, r.pages) for r in rows] == [
            (out.dossier_id, 1), (other.dossier_id, 2)]


def test_separator_sheets_for_typed_codes(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
) -> None:
    """The batch page prints sheets for the codes a clerk typed: the same sheets as for
    the dossiers themselves, and a Vietnamese error for a code that is not a dossier."""
    first = intake.receive(complete_draft(intake, "9.000000"), clerk)
    second = intake.receive(complete_draft(intake, "9.000000"), clerk)
    assert first.code is not None and second.code is not None
    by_code = separator_sheets_for_codes(ctx, [first.code, second.code])
    assert by_code == separator_sheets_for(ctx, [first.dossier_id, second.dossier_id])
    with pytest.raises(DomainError) as err:
        separator_sheets_for_codes(ctx, [first.code, "000.00.12.H12-231027-1099"])
    assert err.value.message_vi == "Không tìm thấy hồ sơ có mã 000.00.12.H12-231027-1099."


def test_separator_sheets_only_for_submitted_components_naming_the_submitter(
    ctx: AppContext, intake: IntakeService, clerk: ClerkInfo,  # noqa: F811
) -> None:
    """A component the citizen did not hand in has no pages to scan, so no sheet; the
    sheet's "Người nộp" is who stood at the counter (the proxy filing for the owner)."""
    draft = complete_draft(intake, "9.000005")
    draft.submitter = PersonInfo(full_name="Hoàng Văn Tuấn", id_number="019088004321",
                                 phone="0987000111")
    assert [c.provided for c in draft.components] == [True, True, False]
    out = intake.receive(draft, clerk)
    texts = [unicodedata.normalize("NFC", p.extract_text()) for p in
             PdfReader(io.BytesIO(separator_sheets_for(ctx, [out.dossier_id]))).pages]
    assert len(texts) == 2
    for i, text in enumerate(texts, 1):
        assert f"Thành phần số {i} " in text and "Thành phần số 3" not in text
        assert "Người nộp: Hoàng Văn Tuấn" in text
        assert draft.owner.full_name not in text
        assert f"Tờ {i}/2" in text

