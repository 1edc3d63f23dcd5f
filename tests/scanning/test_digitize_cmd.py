"""`motcua digitize`: JSON lines on stdout, Vietnamese refusals on stderr, exit status."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from desktop_app.cli import main
from tests.scanning import synthetic

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"input", "output", "pages", "dpi", "colour_mode", "bytes", "part", "parts", "actions"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("in")
    text = synthetic.text_page(dpi=200, lines=10, skew=1.0)
    empty = d / "trong.jpg"
    empty.write_bytes(b"")
    bad = d / "ghi-chu.pdf"
    bad.write_text("không phải PDF", encoding="utf-8")
    return {
        "text": synthetic.save_jpeg(text, d / "don-de-nghi.jpg", dpi=200),
        "stamp": synthetic.scanner_pdf([synthetic.stamp_page(dpi=200)] * 3,
                                       d / "giay-xac-nhan.pdf", dpi=200),
        "empty": empty,
        "bad": bad,
    }


def _lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_digitize_writes_one_pdf_per_input_and_json_lines(
        tmp_path: Path, inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["digitize", str(inputs["text"]), str(inputs["stamp"]), "--out", str(tmp_path),
               "--profile", "a4-auto", "--dossier", "000.00.12.H12-231027-1003",
               "--component", "Đơn đề nghị"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    lines = _lines(captured.out)
    assert [Path(str(x["output"])).name for x in lines] == ["don-de-nghi.pdf",
                                                            "giay-xac-nhan.pdf"]
    for line in lines:
        assert line.keys() >= KEYS
        assert Path(str(line["output"])).stat().st_size == line["bytes"]
        assert (line["part"], line["parts"]) == (1, 1)
    assert (lines[0]["colour_mode"], lines[0]["pages"], lines[0]["dpi"]) == ("bilevel", 1, 200)
    assert (lines[1]["colour_mode"], lines[1]["pages"]) == ("colour", 3)
    with pikepdf.open(tmp_path / "don-de-nghi.pdf") as pdf:
        assert str(pdf.docinfo["/Title"]) == "Đơn đề nghị"
        assert "000.00.12.H12-231027-1003" in str(pdf.docinfo["/Subject"])


def test_refused_inputs_exit_2_and_others_are_still_written(
        tmp_path: Path, inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["digitize", str(inputs["empty"]), str(inputs["text"]), str(inputs["bad"]),
               "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert rc == 2
    assert [Path(str(x["input"])).name for x in _lines(captured.out)] == ["don-de-nghi.jpg"]
    assert (tmp_path / "don-de-nghi.pdf").exists()
    err = captured.err
    assert "trong.jpg" in err and "rỗng" in err
    assert "ghi-chu.pdf" in err and "nội dung không phải PDF" in err
    assert "2/3 tệp không số hóa được." in err


def test_size_limit_splits_and_mode_override(
        tmp_path: Path, inputs: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["digitize", str(inputs["stamp"]), "--out", str(tmp_path), "--max-mb", "0.3",
               "--mode", "grey"])
    lines = _lines(capsys.readouterr().out)
    assert rc == 0
    assert len(lines) > 1 and all(x["parts"] == len(lines) for x in lines)
    assert all(int(str(x["bytes"])) <= 0.3 * 1024 * 1024 for x in lines)
    assert all(x["colour_mode"] == "grey" for x in lines)
    assert any("Chia thành" in a for a in lines[0]["actions"])  # type: ignore[union-attr]


def test_unknown_profile(tmp_path: Path, inputs: dict[str, Path],
                         capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["digitize", str(inputs["text"]), "--out", str(tmp_path), "--profile", "a9"])
    assert rc == 2
    assert "Không có hồ sơ quét “a9”" in capsys.readouterr().err


def test_real_subprocess(tmp_path: Path, inputs: dict[str, Path]) -> None:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "desktop_app.cli", "digitize", str(inputs["text"]),
         str(inputs["empty"]), "--out", str(tmp_path / "ra"), "--profile", "text-bw"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert out.returncode == 2
    (line,) = _lines(out.stdout)
    assert line["colour_mode"] == "bilevel" and Path(str(line["output"])).is_file()
    assert "trong.jpg" in out.stderr
