"""The Windows installer's logic run for real under Wine: silent install and provisioning,
the station folder in ProgramData with its ACL, the refusals while the program runs and
for a downgrade, uninstall and /PURGE (packaging/windows/test-under-wine.sh says what it
checks). About 20 s. CI installs wine64 (.ci/run), so there a missing Wine fails the
test instead of skipping it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]


def _wine() -> str | None:
    return shutil.which("wine64") or (
        "/usr/lib/wine/wine64" if os.access("/usr/lib/wine/wine64", os.X_OK) else None)


def test_installer_under_wine(tmp_path: Path) -> None:
    missing = [name for name, found in (("wine64", _wine()), ("makensis",
                                                              shutil.which("makensis")))
               if not found]
    if missing:
        if os.environ.get("MOTCUA_BUILD_PACKAGES") == "1":
            pytest.fail(f"{', '.join(missing)} missing: .ci/run installs them")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install wine64 nsis)")
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "windows" / "test-under-wine.sh")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.strip().endswith(": đạt"), proc.stdout
