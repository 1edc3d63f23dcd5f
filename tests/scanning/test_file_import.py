"""File import: each file is checked on its own and copied atomically; a bad file is
reported by name while the others come in."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import CancelledError, CancelToken, DigitizationRules
from desktop_app.scanning.sources import base
from desktop_app.scanning.sources.files import ImportFailure, import_files, iter_import

pytestmark = pytest.mark.nodb

RULES = DigitizationRules()


def image_bytes(fmt: str, dpi: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (10, 120, 200)).save(out, fmt, dpi=(dpi, dpi))
    return out.getvalue()


def pdf_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("L", (60, 60), 255).save(out, "PDF")
    return out.getvalue()


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    d = tmp_path / "inbox"
    d.mkdir()
    return d


def test_good_files_are_copied_and_bad_ones_reported(inbox: Path, tmp_path: Path) -> None:
    good = {"CCCD mặt trước.jpg": image_bytes("JPEG"), "so-do.png": image_bytes("PNG"),
            "hop-dong.tif": image_bytes("TIFF"), "giay-to.pdf": pdf_bytes()}
    for name, data in good.items():
        (inbox / name).write_bytes(data)
    (inbox / "rong.jpg").write_bytes(b"")
    (inbox / "ghi-chu.docx").write_bytes(b"PK\x03\x04 not a scan")
    (inbox / "hong.jpg").write_bytes(b"this is not a jpeg at all")
    paths = sorted(inbox.iterdir())
    dest = tmp_path / "raw"

    report = import_files(paths, dest, RULES)

    assert sorted(f.original_name for f in report.files) == sorted(good)
    for f in report.files:
        assert f.source == "import" and f.path.parent == dest
        assert f.path.read_bytes() == good[f.original_name]
    by_name = {e.path.name: e for e in report.errors}
    assert set(by_name) == {"rong.jpg", "ghi-chu.docx", "hong.jpg"}
    assert "rỗng (0 byte)" in by_name["rong.jpg"].message_vi
    assert "không phải ảnh quét hoặc PDF" in by_name["ghi-chu.docx"].message_vi
    assert "nội dung không phải JPEG" in by_name["hong.jpg"].message_vi
    assert all(e.detail for e in report.errors) and not report.ok
    assert len(list(dest.iterdir())) == len(good)  # nothing half-written for the bad ones


def test_dpi_and_real_format_are_recorded(inbox: Path, tmp_path: Path) -> None:
    (inbox / "renamed.jpg").write_bytes(image_bytes("PNG", dpi=300))  # a PNG named .jpg
    [f] = import_files([inbox / "renamed.jpg"], tmp_path / "raw", RULES).files
    assert f.dpi == 300 and f.path.suffix == ".png" and f.original_name == "renamed.jpg"
    [p] = import_files([_write(inbox / "doc.pdf", pdf_bytes())], tmp_path / "raw", RULES).files
    assert p.dpi is None


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_too_large_and_missing(inbox: Path, tmp_path: Path) -> None:
    big = _write(inbox / "a0.tif", image_bytes("TIFF"))
    rules = DigitizationRules(max_input_bytes=100)
    report = import_files([big, inbox / "missing.png"], tmp_path / "raw", rules)
    assert report.files == []
    messages = [e.message_vi for e in report.errors]
    assert "quá lớn" in messages[0] and "Không tìm thấy tệp missing.png" in messages[1]


def test_same_name_twice_and_folders(inbox: Path, tmp_path: Path) -> None:
    sub = inbox / "lan-2"
    sub.mkdir()
    _write(inbox / "trang.jpg", image_bytes("JPEG"))
    _write(sub / "trang.jpg", image_bytes("JPEG", dpi=300))
    _write(sub / "b.png", image_bytes("PNG"))
    report = import_files([inbox / "trang.jpg", inbox / "trang.jpg", sub], tmp_path / "raw",
                          RULES)
    names = sorted(f.path.name for f in report.files)
    assert names == ["import-b.png", "import-trang-2.jpg", "import-trang.jpg"]


def test_disk_full_while_copying_leaves_nothing_half_written(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = [_write(inbox / f"p{i}.jpg", image_bytes("JPEG")) for i in range(3)]
    dest = tmp_path / "raw"
    real_open = Path.open
    writes = {"n": 0}

    class FullDisk(io.RawIOBase):
        def __init__(self, path: Path) -> None:
            self.inner = real_open(path, "wb")

        def writable(self) -> bool:
            return True

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.inner.write(b[:10])  # some bytes land, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.inner.close()
            super().close()

    def fake_open(self: Path, mode: str = "r", *args: object, **kw: object) -> object:
        if mode == "wb" and self.name.endswith(".part"):
            writes["n"] += 1
            if writes["n"] == 2:
                return FullDisk(self)
        return real_open(self, mode, *args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", fake_open)
    report = import_files(paths, dest, RULES)
    assert [f.original_name for f in report.files] == ["p0.jpg"]
    [err] = report.errors  # the import stops at a full disk: one clear message
    assert err.path.name == "p1.jpg" and "Ổ đĩa gần đầy" in err.message_vi
    assert [p.name for p in dest.iterdir()] == ["import-p0.jpg"]


def test_refuses_when_free_space_is_below_the_reserve(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "free_bytes", lambda path: 1024)
    report = import_files([_write(inbox / "a.jpg", image_bytes("JPEG"))], tmp_path / "raw",
                          RULES)
    assert report.files == [] and "Ổ đĩa gần đầy" in report.errors[0].message_vi


def test_results_stream_and_cancel(inbox: Path, tmp_path: Path) -> None:
    paths = [_write(inbox / f"{i}.png", image_bytes("PNG")) for i in range(3)]
    token = CancelToken()
    got = []
    with pytest.raises(CancelledError):
        for item in iter_import(paths, tmp_path / "raw", RULES, token):
            assert not isinstance(item, ImportFailure)
            got.append(item)
            token.cancel()
    assert len(got) == 1 and len(list((tmp_path / "raw").iterdir())) == 1
