"""End-to-end check of the release packages: runs scripts/build-packages.sh (PyInstaller
bundle, .deb, NSIS compile check, smoke test of the installed files) and inspects what it
produced.

Slow (1.5-3 minutes on 2 cores, ~500 MB of disk) and it needs dpkg-deb, so it only runs
when asked:

    MOTCUA_BUILD_PACKAGES=1 .venv/bin/python -m pytest tests/packaging -q

Only the NSIS compile check (under a second) runs by default, wherever makensis is
installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build-packages.sh"

SKIP_REASON = ("builds the PyInstaller bundle and the .deb (minutes, ~500 MB): "
               "set MOTCUA_BUILD_PACKAGES=1 to run")


def _pinned_pyinstaller() -> str:
    for line in (ROOT / "packaging" / "requirements-build.txt").read_text().splitlines():
        if line.startswith("pyinstaller=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError("pyinstaller is not pinned in packaging/requirements-build.txt")


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if os.environ.get("MOTCUA_BUILD_PACKAGES") != "1":
        pytest.skip(SKIP_REASON)
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed (Debian/Ubuntu only)")
    out = tmp_path_factory.mktemp("packages")
    env = dict(os.environ, OUT_DIR=str(out), PYTHON=sys.executable)
    env.pop("QT_QPA_PLATFORM", None)  # the script sets it for the smoke test itself
    proc = subprocess.run(["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=1500)
    log = proc.stdout + proc.stderr
    (out / "build.log").write_text(log, encoding="utf-8")
    assert proc.returncode == 0, log[-6000:]
    report = json.loads((out / "build-report.json").read_text(encoding="utf-8"))
    report["_out"] = out
    report["_log"] = log
    print(f"\npackages built in {report['seconds']['total']} s: bundle {report['bundle_mb']} MB, "
          f".deb {report['deb_mb']} MB, `motcua --version` {report['startup_version_s']} s")
    return report


def test_report_versions(build: dict[str, Any]) -> None:
    from desktop_app import __version__

    assert build["version"] == __version__
    assert build["pyinstaller"] == _pinned_pyinstaller()
    assert 0 < build["startup_version_s"] < 5
    # Qt alone is ~130 MB; a bundle far over this has picked up something it should not.
    assert 150 < build["bundle_mb"] < 500



def test_windows_version_resource_generated(build: dict[str, Any]) -> None:
    """motcua.spec writes the executables' version resource on every platform (passed to
    EXE only on Windows), from the same version as the package."""
    work = Path(os.environ.get("WORK_DIR", ROOT / "build" / "pyinstaller"))
    text = (work / "motcua" / "version-motcua.txt").read_text(encoding="utf-8")
    assert f"StringStruct('ProductVersion', '{build['version']}')" in text


def test_bundle_has_runtime_files(build: dict[str, Any]) -> None:
    internal = Path(build["bundle_dir"]) / "_internal"
    assert (internal / "resources" / "catalog" / "procedures.json").is_file()
    assert sorted(p.name for p in (internal / "resources" / "fonts").glob("*.ttf")) == sorted(
        p.name for p in (ROOT / "resources" / "fonts").glob("*.ttf"))
    # Alembic reads the migrations as source files at run time.
    migrations = internal / "local_db" / "migrations"
    assert (migrations / "env.py").is_file()
    assert sorted(p.name for p in (migrations / "versions").glob("0*.py")) == sorted(
        p.name for p in (ROOT / "local_db" / "migrations" / "versions").glob("0*.py"))
    # copy_metadata: the dist-info of the install, or the egg-info of the source tree
    assert list(internal.glob("motcua_offline*-info")), "version metadata missing"
    qt = internal / "PySide6"
    for module in ("QtMultimedia", "QtCharts", "QtPdf", "QtPdfWidgets", "QtPrintSupport"):
        assert list(qt.glob(f"{module}.*")), f"{module} missing from the bundle"
    for unused in ("QtWebEngineCore", "Qt3DCore", "QtQuick3D", "QtQml"):
        assert not list(qt.glob(f"{unused}.*")), f"{unused} should be excluded"
    assert (qt / "Qt" / "plugins" / "platforms" / "libqxcb.so").is_file()
    assert (qt / "Qt" / "plugins" / "multimedia").is_dir()
    # zbar comes from the system package libzbar0 (a Depends of the .deb)
    assert not list(internal.rglob("libzbar.so*"))
    # the licenses next to the executable (packaging/third_party_notices.py)
    bundle = Path(build["bundle_dir"])
    assert (bundle / "LICENSE.txt").read_bytes() == (ROOT / "LICENSE").read_bytes()
    notices = (bundle / "THIRD-PARTY-NOTICES.txt").read_text(encoding="utf-8")
    for name in ("PySide6_Essentials", "Qt ", "FFmpeg", "zbar", "Liberation Fonts"):
        assert name in notices, name


def test_deb_metadata_and_layout(build: dict[str, Any]) -> None:
    deb = Path(build["deb"])
    assert deb.name == f"motcua-offline_{build['version']}_amd64.deb"

    def field(name: str) -> str:
        return subprocess.run(["dpkg-deb", "-f", str(deb), name], check=True,
                              capture_output=True, text=True).stdout.strip()

    assert field("Package") == "motcua-offline"
    assert field("Architecture") == "amd64"
    assert field("Version") == build["version"].replace("rc", "~rc")
    depends = field("Depends")
    for pkg in ("libzbar0", "libegl1", "libxkbcommon-x11-0", "libxcb-cursor0", "libc6"):
        assert pkg in depends, depends
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True,
                             text=True).stdout
    for path in ("./opt/motcua-offline/motcua", "./usr/share/applications/motcua-offline.desktop",
                 "./usr/share/icons/hicolor/256x256/apps/motcua-offline.png",
                 "./usr/bin/motcua -> /opt/motcua-offline/motcua",
                 "./usr/share/doc/motcua-offline/THIRD-PARTY-NOTICES.txt",
                 "./opt/motcua-offline/LICENSE.txt"):
        assert path in listing, path
    copyright_file = subprocess.run(
        ["dpkg-deb", "--fsys-tarfile", str(deb)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(copyright_file)) as tar:
        member = tar.extractfile("./usr/share/doc/motcua-offline/copyright")
        assert member is not None
        dep5 = member.read().decode("utf-8")
    assert dep5.startswith("Format: https://www.debian.org/doc/packaging-manuals/"
                           "copyright-format/1.0/\n")
    assert "\nFiles: *\nCopyright: 2026 Một Cửa Offline contributors\n" in dep5
    assert "Files: opt/motcua-offline/_internal/PySide6/Qt/*" in dep5
    control = subprocess.run(["dpkg-deb", "-I", str(deb)], check=True, capture_output=True,
                             text=True).stdout
    assert "postinst" in control and "prerm" in control


def test_smoke_results(build: dict[str, Any]) -> None:
    smoke = build["smoke"]
    assert smoke["version"] == "ok"
    assert smoke["demo"] == "ok"
    assert smoke["demo_pdfs"] >= 1
    assert smoke["zbar"] == "ok"  # an ID-card QR image read through the system libzbar
    # `motcua provision` and `motcua doctor` are run when the commands exist (doctor: exit
    # 0 or 1, i.e. warnings such as "no printer" allowed); otherwise reported absent.
    for command in ("provision", "doctor"):
        assert smoke[command] in ("ok", "absent"), smoke
        if smoke[command] == "absent":
            assert f"motcua {command}' chưa có" in build["_log"]
    if os.environ.get("MOTCUA_SMOKE_CHROOT"):
        assert smoke["chroot"] == "ok"


def test_scanner_driver_adapters_are_in_the_bundle(build: dict[str, Any]) -> None:
    """The WIA and TWAIN adapters are in the bundle's analysis (imported statically by the
    source registry, not through importlib, which PyInstaller cannot follow). Their
    Windows libraries (pywin32, pytwain) are checked the same way by the Windows
    workflow."""
    toc = (ROOT / "build" / "pyinstaller" / "motcua" / "PYZ-00.toc").read_text()
    for module in ("desktop_app.scanning.sources.wia", "desktop_app.scanning.sources.twain",
                   "desktop_app.scanning.sources.registry"):
        assert f"'{module}'" in toc, module


def test_nsis_script_compiles(build: dict[str, Any]) -> None:
    if shutil.which("makensis") is None:
        assert build["nsis"]["status"] == "skipped"
        pytest.skip("makensis is not installed")
    assert build["nsis"]["status"] == "compiled"
    exe = Path(build["nsis"]["file"])
    assert exe.read_bytes()[:2] == b"MZ"


def test_checksums(build: dict[str, Any]) -> None:
    out: Path = build["_out"]
    lines = (out / "SHA256SUMS").read_text().splitlines()
    assert lines
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((out / name.lstrip("*")).read_bytes()).hexdigest() == digest


@pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis is not installed")
def test_nsis_script_compiles_with_stand_in(tmp_path: Path) -> None:
    """The installer script compiles (Vietnamese MUI2 pages, sections, uninstaller) with
    warnings as errors, against a stand-in staging folder: fast enough for every run."""
    out = tmp_path / "setup-standin.exe"
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "windows" / "build.sh"), "",
                           str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    exe = out.read_bytes()
    assert exe[:2] == b"MZ"
    # the license page: LICENSE, read as UTF-8 (its BOM), stored as UTF-16 by makensis
    assert "Một Cửa Offline contributors".encode("utf-16-le") in exe
    # The upgrade guards are compiled in (with -WX an uncalled function is a warning, so
    # an error): the running-program and downgrade refusals with their Vietnamese
    # messages and English log lines, and the registry value the downgrade check reads.
    for text in ("dừng lượt đồng bộ theo lịch", "Thử lại", "Refused (exit 4): ",
                 "chạy lại bộ cài với tham số /FORCE", "Refused (exit 5): installed version ",
                 "/FORCE", "VersionNumbers", "motcua-offline-setup.log"):
        assert text.encode("utf-16-le") in exe, text
    # the setup program's own version resource (Explorer's Properties → Details)
    from desktop_app import __version__

    for key in ("ProductVersion", "FileVersion"):  # key, NUL, padding to 4 bytes, value
        assert re.search(re.escape(key.encode("utf-16-le")) + b"\0\0(?:\0\0)?"
                         + re.escape(f"{__version__}\0".encode("utf-16-le")), exe), key
