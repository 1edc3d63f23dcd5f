"""The installer build's signing hook: with SIGN_CMD set, makensis runs it on the
programs of a real bundle before packing them, on the uninstaller before embedding it and
on the finished installer. A stand-in signer records each path and appends a mark, as a
signature changes the file, so the test also sees that the signed files are the ones
shipped."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "packaging" / "windows" / "build.sh"
MARK = b"SIGNED-BY-STAND-IN"

pytestmark = [
    pytest.mark.nodb,
    pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis is not installed"),
    # makensis runs SIGN_CMD through cmd.exe on Windows; the stand-in signer is sh.
    pytest.mark.skipif(os.name == "nt", reason="the stand-in signer is a POSIX shell script"),
]


def _signer(tmp_path: Path) -> tuple[str, Path]:
    marker = tmp_path / "signed.txt"
    script = tmp_path / "sign stand-in.sh"
    script.write_text('#!/bin/sh\nprintf \'%s\\n\' "$1" >> "$MARKER"\n'
                      f"printf '{MARK.decode()}' >> \"$1\"\n", encoding="utf-8")
    script.chmod(0o755)
    return f'"{script}" "%1"', marker


def _build(tmp_path: Path, sign_cmd: str, marker: Path, *args: str
           ) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SIGN_CMD=sign_cmd, MARKER=str(marker), COMPRESSOR="none")
    return subprocess.run(["bash", str(BUILD), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_stand_in_build_signs_the_uninstaller_then_the_installer(tmp_path: Path) -> None:
    sign_cmd, marker = _signer(tmp_path)
    out = tmp_path / "motcua-offline-standin-setup.exe"
    proc = _build(tmp_path, sign_cmd, marker, "", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    uninstaller, installer = marker.read_text(encoding="utf-8").splitlines()
    assert Path(installer) == out
    # makensis's temporary uninstaller, signed before it was embedded (stored uncompressed
    # with COMPRESSOR=none, so its mark is inside the installer) and removed afterwards.
    assert uninstaller != installer and not Path(uninstaller).exists()
    exe = out.read_bytes()
    assert exe[:2] == b"MZ" and exe.endswith(MARK) and exe.count(MARK) == 2


def test_a_real_bundles_programs_are_signed_before_they_are_packed(tmp_path: Path) -> None:
    sign_cmd, marker = _signer(tmp_path)
    bundle = tmp_path / "dist dir" / "motcua"  # a space, as in "Program Files"
    (bundle / "_internal").mkdir(parents=True)
    for name in ("motcua.exe", "motcua-gui.exe", "THIRD-PARTY-NOTICES.txt"):
        (bundle / name).write_bytes(b"stand-in " + name.encode())
    (bundle / "LICENSE.txt").write_bytes(b"\xef\xbb\xbf" + (ROOT / "LICENSE").read_bytes())
    (bundle / "_internal" / "README.txt").write_text("stand-in", encoding="utf-8")
    out = tmp_path / "motcua-offline-setup.exe"
    proc = _build(tmp_path, sign_cmd, marker, str(bundle), str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    signed = marker.read_text(encoding="utf-8").splitlines()
    assert signed[:2] == [str(bundle / "motcua.exe"), str(bundle / "motcua-gui.exe")]
    assert len(signed) == 4 and signed[3] == str(out)
    assert (bundle / "motcua.exe").read_bytes().endswith(MARK)
    # both programs, the uninstaller and the installer itself carry a signature
    assert out.read_bytes().count(MARK) == 4


def test_a_failing_signer_fails_the_build(tmp_path: Path) -> None:
    out = tmp_path / "motcua-offline-unsigned-setup.exe"
    proc = _build(tmp_path, 'false "%1"', tmp_path / "unused", "", str(out))
    assert proc.returncode != 0
    assert "makensis thất bại" in proc.stderr
    assert not out.exists()


def test_a_sign_command_without_the_file_is_refused(tmp_path: Path) -> None:
    proc = _build(tmp_path, "signtool sign /fd SHA256", tmp_path / "unused", "",
                  str(tmp_path / "x-setup.exe"))
    assert proc.returncode == 2 and "%1" in proc.stderr
