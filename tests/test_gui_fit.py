"""Every screen fits the counter PC: the real GUI on a 1024×768 monitor, a 1366×768
laptop at 100 % and 125 % scaling and a 1920×1080 screen at 150 % (each less a 40-pixel
taskbar), walked page by page and dialog by dialog by ``tests/support/fit_probe.py`` in
a process of its own (the screen is fixed when Qt starts). The window must lie on the
available screen, and the status bar and every place's main buttons must be wholly
visible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRESQL

PROBE = Path(__file__).parent / "support" / "fit_probe.py"
TASKBAR = 40

pytestmark = [pytest.mark.gui, pytest.mark.nodb,
              pytest.mark.skipif(ON_POSTGRESQL, reason="the probe uses its own SQLite file; "
                                 "screen geometry does not depend on the database")]


@pytest.mark.parametrize(("width", "height", "scale"), [
    (1024, 768, 1.0), (1366, 768, 1.0), (1366, 768, 1.25), (1920, 1080, 1.5)])
def test_every_place_fits_the_screen(tmp_path: Path, width: int, height: int,
                                     scale: float) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "counter", "x": 0, "y": 0, "width": width, "height": height - TASKBAR,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
               QT_SCALE_FACTOR=str(scale), MOTCUA_NO_KEYRING="1")
    env.pop("MOTCUA_DB_URL", None)
    result = subprocess.run([sys.executable, str(PROBE)], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    logical = [round(width / scale), round((height - TASKBAR) / scale)]
    assert [abs(a - b) <= 1 for a, b in zip(report["screen"], logical, strict=True)] == [True] * 2
    assert len(report["places"]) >= 17, report["places"]
    assert report["problems"] == []
