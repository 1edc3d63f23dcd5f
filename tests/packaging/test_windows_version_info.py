"""The Windows version resource of the executables (packaging/windows/version_info.py):
generated from the package version, in the syntax PyInstaller's own versioninfo classes
read."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "windows" / "version_info.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("version_info", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def pyi_versioninfo(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """PyInstaller's versioninfo module. It imports pefile and PyInstaller.compat's
    win32api at the top, which exist only on Windows; building and parsing the structure
    uses neither, so empty stand-ins are enough to import it here."""
    compat = pytest.importorskip(
        "PyInstaller.compat",
        reason="PyInstaller is installed by the package build (MOTCUA_BUILD_PACKAGES=1)")
    import PyInstaller.compat

    assert compat is PyInstaller.compat
    if importlib.util.find_spec("pefile") is None:
        monkeypatch.setitem(sys.modules, "pefile", ModuleType("pefile"))
    if not hasattr(PyInstaller.compat, "win32api"):
        monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo", raising=False)
    module = importlib.import_module("PyInstaller.utils.win32.versioninfo")
    monkeypatch.delitem(sys.modules, "PyInstaller.utils.win32.versioninfo")
    return module


def test_four_numbers() -> None:
    gen = _load()
    assert gen.four_numbers("0.1.0") == (0, 1, 0, 0)
    assert gen.four_numbers("1.2.3rc1") == (1, 2, 3, 0)
    assert gen.four_numbers("2026.12.7.4") == (2026, 12, 7, 4)
    with pytest.raises(ValueError):
        gen.four_numbers("70000.1")


@pytest.mark.parametrize("name", ["motcua", "motcua-gui"])
def test_generated_resource_carries_package_version(
        name: str, tmp_path: Path, pyi_versioninfo: ModuleType) -> None:
    from desktop_app import __version__

    gen = _load()
    assert gen.project_version() == __version__
    path = tmp_path / "version.txt"
    path.write_text(gen.version_file_text(name, gen.project_version()), encoding="utf-8")

    # what EXE(version=path) does first on Windows: eval the file with PyInstaller's classes
    # (then toRaw() into RT_VERSION; not here: it packs with the native long size, 8 bytes
    # on Linux instead of 4)
    parsed = pyi_versioninfo.load_version_info_from_text_file(str(path))

    major, minor, patch, build = gen.four_numbers(__version__)
    assert parsed.ffi.fileVersionMS == (major << 16) | minor
    assert parsed.ffi.fileVersionLS == (patch << 16) | build
    assert parsed.ffi.productVersionMS == parsed.ffi.fileVersionMS
    string_file_info = next(k for k in parsed.kids if isinstance(k, pyi_versioninfo.StringFileInfo))
    table = string_file_info.kids[0]
    assert table.name == "042A04B0"  # Vietnamese, UTF-16
    strings = {s.name: s.val for s in table.kids}
    assert strings["ProductVersion"] == __version__
    assert strings["FileVersion"] == __version__
    assert strings["ProductName"] == "Một Cửa Offline"
    assert strings["CompanyName"] == "Dự án Một Cửa Offline"
    assert strings["OriginalFilename"] == f"{name}.exe"
    assert "hồ sơ thủ tục hành chính" in strings["FileDescription"]


def test_command_line_writes_the_file(tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "v.txt"
    subprocess.run([sys.executable, str(SCRIPT), str(out), "--name", "motcua-gui",
                    "--version", "3.4.5"], check=True, timeout=60)
    text = out.read_text(encoding="utf-8")
    assert "filevers=(3, 4, 5, 0)" in text
    assert "StringStruct('OriginalFilename', 'motcua-gui.exe')" in text
