"""The third-party notices generated from the installed distributions
(packaging/third_party_notices.py): complete, with license texts, and reproducible."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "third_party_notices.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("third_party_notices", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


notices = _load()


@pytest.fixture(scope="module")
def components() -> list:
    return notices.collect()


def test_every_direct_requirement_is_listed_with_version_and_license(components: list) -> None:
    listed = {canonicalize_name(c.name): c for c in components}
    direct = [Requirement(r) for r in metadata.requires("motcua-offline") or []]
    runtime = [r for r in direct if r.marker is None or r.marker.evaluate({"extra": ""})]
    assert len(runtime) >= 20
    for req in runtime:
        assert canonicalize_name(req.name) in listed, req.name
    for test_only in ("pytest", "hypothesis", "ruff", "pypdf", "schemathesis"):
        assert test_only not in listed, test_only
    for c in components:
        assert c.version, c.name
        assert c.license.strip() or c.texts, c.name
        assert c.texts, f"{c.name}: no license text"
        assert all(text.strip() for _, text in c.texts), c.name
    # transitive requirements are walked too (alembic -> Mako, requests -> urllib3)
    assert {"mako", "urllib3", "pydantic-core"} <= set(listed)
    # the extras the bundle carries (gateway, postgresql) and their trees, when installed
    for bundled in ("fastapi", "uvicorn", "starlette", "h11", "psycopg", "psycopg-binary"):
        if notices._installed(bundled):
            assert bundled in listed, bundled


def test_qt_pyside_zbar_ffmpeg_fonts_and_python(components: list) -> None:
    by_name = {c.name: c for c in components}
    pyside = by_name["PySide6_Essentials"]
    assert "LGPL-3.0" in pyside.license
    qt = by_name["Qt"]
    assert qt.version == metadata.version("PySide6-Essentials")
    qt_text = "\n".join(text for _, text in qt.texts)
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in qt_text and "Version 3" in qt_text
    zbar = by_name["zbar"]
    assert zbar.license == "LGPL-2.1-or-later"
    assert "Version 2.1" in zbar.texts[0][1]
    fonts = by_name["Liberation Fonts"]
    assert fonts.license == "OFL-1.1"
    assert "SIL OPEN FONT LICENSE" in fonts.texts[0][1].upper()
    assert by_name["Python"].texts, "the interpreter's LICENSE.txt was not found"
    # The Qt wheel of this platform carries FFmpeg for the multimedia plugin.
    if "FFmpeg" in by_name:
        assert by_name["FFmpeg"].license == "LGPL-2.1-or-later"


def test_text_and_debian_copyright_are_deterministic(tmp_path: Path) -> None:
    outs = []
    for run in ("a", "b"):
        text, dep5 = tmp_path / run / "NOTICES.txt", tmp_path / run / "copyright"
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "--output", str(text), "--debian-copyright",
             str(dep5)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        outs.append((text.read_bytes(), dep5.read_bytes()))
    assert outs[0] == outs[1]
    text = outs[0][0].decode("utf-8")
    assert "\r" not in text
    for name in ("PySide6_Essentials", "Qt ", "zbar", "Liberation Fonts", "SQLAlchemy"):
        assert name in text, name
    dep5 = outs[0][1].decode("utf-8")
    assert dep5.startswith(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n")
    paragraphs = dep5.rstrip("\n").split("\n\n")
    assert paragraphs[1].startswith("Files: *\nCopyright: 2026 Một Cửa Offline contributors\n"
                                    "License: GPL-3.0-or-later\n")
    for paragraph in paragraphs[1:]:
        fields = [line.split(":", 1)[0] for line in paragraph.split("\n")
                  if line and not line.startswith(" ")]
        assert fields[:3] == ["Files", "Copyright", "License"], paragraph[:200]
        # continuation lines only: a blank line inside a field would end the paragraph
        assert all(line.startswith(" ") or ":" in line for line in paragraph.split("\n"))
    assert "_internal/PySide6/Qt/*" in dep5
