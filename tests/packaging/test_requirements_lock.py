"""packaging/requirements-lock.txt (scripts/lock-requirements.sh) against pyproject.toml:
every requirement the bundles carry is pinned, with hashes, at a version pyproject allows;
holidays is pinned exactly. Reads files only (no network)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "packaging" / "requirements-lock.txt"
BUILD = ROOT / "packaging" / "requirements-build.txt"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
BUNDLED_EXTRAS = ("gateway", "postgresql")
# The two platforms the bundles are built for, with the lock's Python.
PLATFORMS = {
    "linux": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
              "platform_machine": "x86_64"},
    "windows": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt",
                "platform_machine": "AMD64"},
}
PYTHON = {"python_version": "3.11", "python_full_version": "3.11.7",
          "implementation_name": "cpython", "platform_python_implementation": "CPython"}


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]


def _pins() -> dict[str, Pin]:
    text = re.sub(r"\\\n", " ", LOCK.read_text(encoding="utf-8"))
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(" --hash")
        spec, _, marker = head.partition(";")
        name, eq, version = spec.strip().partition("==")
        assert eq, f"not pinned with ==: {line[:80]}"
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", "--hash" + rest))
        pins[canonicalize_name(name)] = Pin(name, version.strip(),
                                            Marker(marker) if marker.strip() else None, hashes)
    return pins


PINS = _pins()


def _bundled_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    specs = list(project["dependencies"])
    for extra in BUNDLED_EXTRAS:
        specs += project["optional-dependencies"][extra]
    specs += [line.split("#")[0].strip() for line in BUILD.read_text("utf-8").splitlines()
              if line.split("#")[0].strip()]
    return [Requirement(s) for s in specs]


def test_every_entry_is_pinned_with_hashes() -> None:
    assert len(PINS) >= 40
    for pin in PINS.values():
        Version(pin.version)  # an exact, valid version
        assert pin.hashes, f"{pin.name}: no --hash"


@pytest.mark.parametrize("requirement", _bundled_requirements(), ids=str)
def test_every_bundled_requirement_is_locked_at_an_allowed_version(
        requirement: Requirement) -> None:
    pin = PINS.get(canonicalize_name(requirement.name))
    assert pin is not None, (f"{requirement.name} is not in {LOCK.name}: run "
                             "bash scripts/lock-requirements.sh")
    assert requirement.specifier.contains(pin.version, prereleases=True), (
        f"{LOCK.name} pins {pin.name}=={pin.version}, pyproject wants {requirement}: "
        "run bash scripts/lock-requirements.sh")
    for extra in requirement.extras:  # psycopg[binary] -> psycopg-binary is locked too
        wanted = [Requirement(r) for r in metadata.requires(requirement.name) or []
                  if "extra" in r and Requirement(r).marker is not None
                  and Requirement(r).marker.evaluate({"extra": extra, **PYTHON,
                                                      **PLATFORMS["linux"]})]
        for sub in wanted:
            assert canonicalize_name(sub.name) in PINS, f"{requirement}: {sub.name}"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_each_platform_gets_its_own_requirements(platform: str) -> None:
    env = {**PYTHON, **PLATFORMS[platform]}
    for req in _bundled_requirements():
        if req.marker is None or req.marker.evaluate({**env, "extra": ""}):
            pin = PINS[canonicalize_name(req.name)]
            assert pin.marker is None or pin.marker.evaluate(env), (platform, pin)
    on_windows = {"pywin32", "pytwain"}
    installs = {name for name, pin in PINS.items()
                if pin.marker is None or pin.marker.evaluate(env)}
    assert (on_windows <= installs) == (platform == "windows")


def test_holidays_is_pinned_exactly_and_narrowly() -> None:
    """A new holidays release can move an appointment date: one version of the app
    computes with one holidays release (the lock) and pyproject allows patch releases
    of that minor only."""
    pin = PINS["holidays"]
    spec = next(r for r in _bundled_requirements() if r.name == "holidays").specifier
    assert spec.contains(pin.version)
    locked = Version(pin.version)
    assert not spec.contains(f"{locked.major}.{locked.minor + 1}"), spec
    assert not spec.contains(f"{locked.major}.{max(locked.minor - 1, 0)}") or locked.minor == 0


def test_build_tools_are_locked_at_their_pins() -> None:
    for req in _bundled_requirements():
        exact = [s.version for s in req.specifier if s.operator == "=="]
        if exact:
            assert PINS[canonicalize_name(req.name)].version == exact[0], req


def test_the_lock_holds_no_test_tool_and_not_the_app() -> None:
    for name in ("pytest", "hypothesis", "ruff", "schemathesis", "motcua-offline"):
        assert name not in PINS, name
