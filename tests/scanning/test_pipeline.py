"""The pipeline end to end: pages processed, the size limit enforced within the legal
floors, parts when needed, batches that survive bad inputs, and A0 in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pikepdf
import pytest

from desktop_app.scanning.fitting import (
    DOC_OVERHEAD,
    FitResult,
    FitStep,
    assemble_component,
    fit_ladder,
    pack_parts,
)
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    DigitizationRules,
    PdfMetadata,
    ProcessedPage,
)
from desktop_app.scanning.page_processing import (
    LARGE_FORMAT_LOCK,
    is_large,
    large_format_guard,
    process_file,
    process_page,
)
from desktop_app.scanning.pipeline import digitize_files
from desktop_app.scanning.profiles import builtin_profile
from tests.scanning import synthetic

ROOT = Path(__file__).resolve().parents[2]
AUTO = builtin_profile("a4-auto")
COLOUR = builtin_profile("a4-colour")
RULES = DigitizationRules()
META = PdfMetadata(title="Bản vẽ hiện trạng", dossier_code="000.00.12.H12-231027-1002")


def test_process_page_deskews_crops_and_goes_bilevel(tmp_path: Path) -> None:
    src = synthetic.save_jpeg(synthetic.text_page(dpi=200, skew=1.5, border_px=40),
                              tmp_path / "to-khai.jpg", dpi=200)
    page = process_page(src, AUTO, RULES, tmp_path / "work")
    assert page.mode is ColourMode.BILEVEL and page.image_path.suffix == ".tif"
    assert page.skew_degrees == pytest.approx(-1.5, abs=0.15)
    assert page.cropped and page.dpi == 200 and not page.blank
    assert page.width_px < 1654 + 40 and page.preview_path.exists()
    assert any("nghiêng" in n for n in page.notes)


def test_scanner_jpeg_passes_through_without_reencoding(tmp_path: Path) -> None:
    src = synthetic.save_jpeg(synthetic.stamp_page(dpi=200), tmp_path / "dau-do.jpg",
                              dpi=200, quality=85)
    page = process_page(src, AUTO, RULES, tmp_path / "work")
    assert page.mode is ColourMode.COLOUR
    original, encoded = src.read_bytes(), page.image_path.read_bytes()
    # Same compressed data: only the JFIF header may differ.
    assert encoded[encoded.index(b"\xff\xdb"):] == original[original.index(b"\xff\xdb"):]


def test_process_page_from_memory_uses_driver_dpi(tmp_path: Path) -> None:
    im = synthetic.photo_page(dpi=200)
    page = process_page(im, AUTO, RULES, tmp_path / "work", dpi=200, source_label="sane:test")
    assert (page.mode, page.dpi, page.source) == (ColourMode.GREY, 200, "sane:test")
    assert im.getpixel((5, 5)) is not None  # the caller's image is still usable


def test_profile_mode_overrides_content(tmp_path: Path) -> None:
    src = synthetic.save_png(synthetic.text_page(dpi=200, lines=5), tmp_path / "van-ban.png")
    page = process_page(src, COLOUR, RULES, tmp_path / "work")
    assert page.mode is ColourMode.COLOUR and page.image_path.suffix == ".jpg"


def test_fit_ladder_respects_floors() -> None:
    ladder = fit_ladder(85, 300, RULES)
    assert ladder[0] == FitStep(None, None)
    assert ladder[1:] == [FitStep(75, 300), FitStep(65, 300), FitStep(65, 250),
                          FitStep(65, 200), FitStep(50, 200)]
    # Already at or below the floors: nothing is raised, nothing goes lower.
    assert fit_ladder(40, 150, RULES) == [FitStep(None, None)]
    assert all(s.dpi >= 200 and s.quality >= 50 for s in fit_ladder(95, 600, RULES)[1:])
    assert fit_ladder(None, None, RULES) == [FitStep(None, None)]


def test_pack_parts_keeps_order_and_isolates_giants() -> None:
    budget = DOC_OVERHEAD + 100
    assert pack_parts([40, 40, 40, 30], budget) == [[0, 1], [2, 3]]
    assert pack_parts([40, 500, 40], budget) == [[0], [1], [2]]


@pytest.fixture(scope="module")
def colour_pages(tmp_path_factory: pytest.TempPathFactory) -> list[ProcessedPage]:
    """Four 300 dpi colour pages (300 dpi so the resolution can step down to 200)."""
    work = tmp_path_factory.mktemp("colour")
    pages = []
    for i in range(4):
        im = synthetic.stamp_page("A5", 300, seed=i)
        src = synthetic.save_jpeg(im, work / f"p{i}.jpg", dpi=300, quality=85)
        pages.append(process_page(src, COLOUR, RULES, work))
    return pages


def _check_parts(result: FitResult, limit: int) -> None:
    for part in result.parts:
        assert part.bytes <= limit
        assert part.dpi >= RULES.min_dpi
        with pikepdf.open(part.path) as pdf:
            assert len(pdf.pages) == part.pages


def test_fits_as_is_when_small_enough(tmp_path: Path, colour_pages: list[ProcessedPage]) -> None:
    result = assemble_component(colour_pages, tmp_path, "ban-ve", RULES, META)
    assert [p.path.name for p in result.parts] == ["ban-ve.pdf"]
    assert result.actions == [] and result.jpeg_quality is None


def test_quality_lowered_before_anything_else(tmp_path: Path,
                                              colour_pages: list[ProcessedPage]) -> None:
    total = sum(p.encoded_bytes for p in colour_pages)
    limit = int(total * 0.8)
    result = assemble_component(colour_pages, tmp_path, "ban-ve",
                                DigitizationRules(max_file_bytes=limit), META)
    assert len(result.parts) == 1 and result.dpi is None
    assert result.jpeg_quality is not None and result.jpeg_quality < 85
    assert result.actions[0].startswith("Giảm chất lượng JPEG từ 85 xuống")
    _check_parts(result, limit)


def test_resolution_lowered_but_never_below_200_dpi(tmp_path: Path,
                                                    colour_pages: list[ProcessedPage]) -> None:
    total = sum(p.encoded_bytes for p in colour_pages)
    limit = int(total * 0.3)
    result = assemble_component(colour_pages, tmp_path, "ban-ve",
                                DigitizationRules(max_file_bytes=limit), META)
    assert len(result.parts) == 1
    assert result.dpi is not None and 200 <= result.dpi < 300
    assert any("dpi" in a for a in result.actions)
    _check_parts(result, limit)


def test_split_into_parts_when_floors_are_not_enough(tmp_path: Path,
                                                     colour_pages: list[ProcessedPage]) -> None:
    (tmp_path / "ban-ve.pdf").write_bytes(b"%PDF stale single file")
    limit = 2 * max(p.encoded_bytes for p in colour_pages) // 5 + DOC_OVERHEAD
    result = assemble_component(colour_pages, tmp_path, "ban-ve",
                                DigitizationRules(max_file_bytes=limit), META)
    n = len(result.parts)
    assert n > 1 and not result.over_limit
    assert [p.path.name for p in result.parts] == [f"ban-ve_phan-{i}-of-{n}.pdf"
                                                   for i in range(1, n + 1)]
    assert sum(p.pages for p in result.parts) == 4
    assert f"Chia thành {n} tệp" in " ".join(result.actions)
    assert not (tmp_path / "ban-ve.pdf").exists()  # the stale output is gone
    _check_parts(result, limit)
    with pikepdf.open(result.parts[0].path) as pdf:
        assert f"(phần 1/{n})" in str(pdf.docinfo["/Title"])


def test_page_too_big_even_at_the_floor_is_alone_and_reported(
        tmp_path: Path, colour_pages: list[ProcessedPage]) -> None:
    limit = DOC_OVERHEAD + 20_000
    result = assemble_component(colour_pages[:2], tmp_path, "ban-do",
                                DigitizationRules(max_file_bytes=limit), META)
    assert result.over_limit and result.oversize_pages == [1, 2]
    assert [p.pages for p in result.parts] == [1, 1]
    assert all(p.dpi == 200 for p in result.parts)
    assert "vẫn lớn hơn giới hạn" in " ".join(result.actions)


def test_process_file_and_blank_pages_dropped(tmp_path: Path) -> None:
    pages = [synthetic.text_page(dpi=150, lines=6), synthetic.blank_page(dpi=150),
             synthetic.one_line_page(dpi=150)]
    src = synthetic.save_multipage_tiff(pages, tmp_path / "adf.tif", dpi=150)
    processed = process_file(src, AUTO, RULES, tmp_path / "work")
    assert [p.blank for p in processed] == [False, True, False]
    (result,) = digitize_files([src], tmp_path / "out", AUTO, RULES)
    assert result.ok and result.pages == 2 and result.blank_dropped == 1
    assert "Bỏ 1 trang trắng." in result.actions
    assert not list((tmp_path / "out").glob(".motcua-*"))  # scratch space cleaned up


def test_batch_survives_refused_inputs(tmp_path: Path) -> None:
    good = synthetic.save_jpeg(synthetic.text_page(dpi=150, lines=4), tmp_path / "a.jpg",
                               dpi=150)
    empty = tmp_path / "b.jpg"
    empty.write_bytes(b"")
    notes = tmp_path / "c.pdf"
    notes.write_text("not a pdf")
    results = digitize_files([empty, good, notes], tmp_path / "out", AUTO, RULES)
    assert [r.ok for r in results] == [False, True, False]
    assert "b.jpg" in (results[0].error_vi or "") and "rỗng" in (results[0].error_vi or "")
    assert results[1].parts[0].path == tmp_path / "out" / "a.pdf"


def test_output_never_overwrites_an_input(tmp_path: Path) -> None:
    src = synthetic.scanner_pdf([synthetic.text_page(dpi=150, lines=3)], tmp_path / "x.pdf",
                                dpi=150)
    before = src.read_bytes()
    (result,) = digitize_files([src], tmp_path, AUTO, RULES)
    assert result.ok and result.parts[0].path.name == "x-2.pdf"
    assert src.read_bytes() == before


def test_cancel_stops_the_batch(tmp_path: Path) -> None:
    src = synthetic.save_jpeg(synthetic.text_page(dpi=150, lines=3), tmp_path / "a.jpg",
                              dpi=150)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        digitize_files([src], tmp_path / "out", AUTO, RULES, cancel=token)


def test_large_format_helpers() -> None:
    assert is_large(9933, 14043) and not is_large(2480, 3508)
    with LARGE_FORMAT_LOCK, large_format_guard(9933, 14043):
        pass  # re-entrant: the studio may hold it around calls that take it again


A0_SCRIPT = textwrap.dedent("""
    import json, resource, sys
    from pathlib import Path
    from desktop_app.scanning.model import DigitizationRules
    from desktop_app.scanning.pipeline import digitize_files
    from desktop_app.scanning.profiles import builtin_profile
    (r,) = digitize_files([Path(sys.argv[1])], Path(sys.argv[2]), builtin_profile("a0-map"),
                          DigitizationRules())
    print(json.dumps({"error": r.error_detail,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "parts": [[p.bytes, p.dpi, p.pages] for p in r.parts],
                      "actions": r.actions}))
""")


def test_a0_colour_page_in_bounded_memory(tmp_path: Path) -> None:
    """An A0 colour map at 300 dpi (~140 MP) with a scanner border (so it is decoded,
    cropped and re-encoded, not passed through), in a fresh process. How long it takes
    depends on the machine and its load: bench/bench_digitize.py measures it."""
    im = synthetic.a0_colour_page(300, border_px=30)
    src = tmp_path / "ban-do-a0.jpg"
    im.save(src, "JPEG", quality=90, dpi=(300, 300))
    im.close()
    out = subprocess.run([sys.executable, "-c", A0_SCRIPT, str(src), str(tmp_path / "out")],
                         cwd=ROOT, capture_output=True, text=True, check=True,
                         timeout=1200)  # against a hang only
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["error"] is None
    assert report["rss_mb"] <= 1536, report
    ((size, dpi, pages),) = report["parts"]
    assert pages == 1 and dpi >= 200 and size <= RULES.max_file_bytes
