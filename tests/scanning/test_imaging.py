"""Page analysis and encoding on scanner-like synthetic pages."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from desktop_app.scanning import imaging
from desktop_app.scanning.model import ColourMode
from tests.scanning import synthetic

pytestmark = pytest.mark.nodb

DPI = 150


def analyse(im: Image.Image, dpi: int = DPI, mode: ColourMode = ColourMode.AUTO,
            ) -> imaging.PageAnalysis:
    factor = imaging.analysis_factor(im.width, im.height, dpi)
    small = imaging.reduce_to(im, factor)
    return imaging.analyse(small, dpi * small.width / im.width, deskew=True, crop=True,
                           mode=mode)[0]


@pytest.mark.parametrize("skew", [2.0, -1.2, 3.5, 0.6])
def test_deskew_finds_the_angle_that_straightens_the_page(skew: float) -> None:
    im = synthetic.text_page(dpi=DPI, skew=skew, seed=abs(int(skew * 10)))
    angle = imaging.estimate_skew(imaging.to_grey_array(im))
    assert angle == pytest.approx(-skew, abs=0.15)
    straightened = im.rotate(angle, fillcolor=255)
    assert imaging.estimate_skew(imaging.to_grey_array(straightened)) == 0.0


def test_tiny_skew_is_left_alone() -> None:
    im = synthetic.text_page(dpi=DPI, skew=0.15)
    assert imaging.estimate_skew(imaging.to_grey_array(im)) == 0.0


def test_photo_and_blank_pages_are_not_rotated() -> None:
    for im in (synthetic.photo_page(dpi=DPI), synthetic.blank_page(dpi=DPI)):
        assert imaging.estimate_skew(imaging.to_grey_array(im)) == 0.0


def test_dark_scanner_border_is_cropped() -> None:
    im = synthetic.text_page(dpi=DPI, skew=1.5, border_px=40, border_level=60)
    a = analyse(im)
    assert a.content_box is not None
    assert a.skew_degrees == pytest.approx(-1.5, abs=0.15)
    assert "Đã cắt viền tối của máy quét." in a.notes
    clean = synthetic.text_page(dpi=DPI)
    assert analyse(clean).content_box is None


def test_grey_lid_border_is_cropped_too() -> None:
    im = synthetic.text_page(dpi=DPI, border_px=30, border_level=130)
    assert analyse(im).content_box is not None


@pytest.mark.parametrize("im", [
    synthetic.blank_page(dpi=DPI, noise=6, dust=6),
    synthetic.blank_page(dpi=DPI, noise=12, dust=10, seed=9),
    synthetic.blank_page(dpi=DPI, mode="RGB"),
], ids=["clean-dust", "noisy-dust", "colour-scan"])
def test_blank_pages_are_detected_despite_noise_and_dust(im: Image.Image) -> None:
    a = analyse(im)
    assert a.blank, a.ink_mm2
    assert a.mode is ColourMode.BILEVEL


def test_one_short_line_is_not_blank() -> None:
    a = analyse(synthetic.one_line_page(dpi=DPI))
    assert not a.blank
    assert a.ink_mm2 > 2 * imaging.BLANK_MAX_INK_MM2


def test_mode_choice() -> None:
    assert analyse(synthetic.text_page(dpi=DPI)).mode is ColourMode.BILEVEL
    assert analyse(synthetic.stamp_page(dpi=DPI)).mode is ColourMode.COLOUR
    assert analyse(synthetic.photo_page(dpi=DPI)).mode is ColourMode.GREY
    # The profile's mode wins over the content.
    assert analyse(synthetic.text_page(dpi=DPI), mode=ColourMode.COLOUR).mode is (
        ColourMode.COLOUR)


def test_cream_paper_with_black_text_is_not_colour() -> None:
    im = Image.new("RGB", synthetic.blank_paper("A4", DPI).size, (244, 236, 214))
    synthetic.draw_text_block(im, DPI)
    im = synthetic.scanner_effects(im, noise=5)
    assert analyse(im).mode is ColourMode.BILEVEL


def test_bilevel_keeps_thin_faint_lines_and_drops_noise() -> None:
    im = synthetic.blank_paper("A4", DPI)
    d = ImageDraw.Draw(im)
    d.line((100, 300, 1100, 300), fill=150, width=1)  # a faint hairline (pencil, form rule)
    d.line((100, 600, 1100, 640), fill=40, width=1)
    im = synthetic.scanner_effects(im, noise=6, seed=7)
    bw = np.asarray(imaging.to_bilevel(im))  # True = white
    assert (~bw[299:302, 100:1100]).any(axis=0).mean() > 0.95
    assert (~bw[598:643, 100:1100]).any(axis=0).mean() > 0.95
    assert (~bw[900:1500, :]).mean() < 1e-4  # plain noisy paper stays white


def test_encode_bilevel_as_single_strip_g4(tmp_path: Path) -> None:
    bw = imaging.to_bilevel(synthetic.text_page(dpi=DPI))
    path = imaging.encode(bw, tmp_path / "p", DPI, 85)
    with Image.open(path) as im:
        assert im.info["compression"] == "group4"
        assert len(im.tag_v2[273]) == 1  # one strip: embeddable in PDF as is
        assert im.info["dpi"] == (DPI, DPI)
    assert path.stat().st_size < 60_000


def test_encode_jpeg_with_quality_and_dpi(tmp_path: Path) -> None:
    im = synthetic.stamp_page(dpi=DPI)
    path = imaging.encode(im, tmp_path / "p", DPI, 70)
    assert imaging.estimate_jpeg_quality(path) == pytest.approx(70, abs=2)
    with Image.open(path) as out:
        assert out.info["dpi"] == (DPI, DPI)


@pytest.mark.parametrize("quality", [50, 75, 85, 95])
def test_estimate_jpeg_quality(tmp_path: Path, quality: int) -> None:
    path = tmp_path / "q.jpg"
    Image.new("RGB", (64, 64), (200, 10, 10)).save(path, "JPEG", quality=quality)
    assert imaging.estimate_jpeg_quality(path) == pytest.approx(quality, abs=2)


def test_jpeg_density_changes_header_only() -> None:
    for save_kwargs in ({"dpi": (72, 72)}, {}):
        buf = io.BytesIO()
        Image.new("L", (40, 30), 128).save(buf, "JPEG", **save_kwargs)
        data = buf.getvalue()
        fixed = imaging.jpeg_with_density(data, 300)
        with Image.open(io.BytesIO(fixed)) as im:
            assert im.info["dpi"] == (300, 300)
            im.load()
        # Everything from the first quantisation table on is byte-identical.
        assert fixed[fixed.index(b"\xff\xdb"):] == data[data.index(b"\xff\xdb"):]


def test_preview_is_small(tmp_path: Path) -> None:
    im = synthetic.text_page(dpi=300, lines=3)
    path = imaging.write_preview(im, tmp_path / "p")
    with Image.open(path) as prev:
        assert max(prev.size) <= imaging.PREVIEW_MAX_SIDE
    bw = imaging.to_bilevel(im)
    with Image.open(imaging.write_preview(bw, tmp_path / "q")) as prev:
        assert prev.format == "PNG" and max(prev.size) <= imaging.PREVIEW_MAX_SIDE


def test_analysis_copy_stays_small_for_a0() -> None:
    factor = imaging.analysis_factor(9933, 14043, 300)
    assert max(9933, 14043) / factor <= imaging.ANALYSIS_MAX_SIDE
