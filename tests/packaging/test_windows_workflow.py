"""The Windows workflow (.github/workflows/windows.yml) cannot run here; these checks keep
it in step with the repository: it runs on windows-latest, runs the suite offscreen on
SQLite, builds the bundle and the installer from the files that exist, installs silently
with /PROVISION (which motcua.nsi supports), and calls only commands and options that
the CLI has. actionlint, when installed, checks the workflow's syntax and expressions."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from desktop_app.cli import build_parser

yaml = pytest.importorskip("yaml")

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "windows.yml"


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict[Any, Any], job: str) -> list[dict[str, Any]]:
    return list(workflow["jobs"][job]["steps"])


def _scripts(workflow: dict[Any, Any], job: str) -> str:
    return "\n".join(str(s.get("run", "")) for s in _steps(workflow, job))


def _uses(workflow: dict[Any, Any], job: str) -> list[str]:
    return [str(s["uses"]) for s in _steps(workflow, job) if "uses" in s]


def test_every_job_runs_on_windows_latest_with_python_311(workflow: dict[Any, Any]) -> None:
    assert set(workflow["jobs"]) == {"tests", "installer"}
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == "windows-latest", name
        assert job["timeout-minutes"] <= 60, name
        setup = [s for s in job["steps"] if str(s.get("uses", "")).startswith(
            "actions/setup-python@")]
        assert [s["with"]["python-version"] for s in setup] == ["3.11"], name
        assert str(job["steps"][0]["uses"]).startswith("actions/checkout@"), name


def test_suite_runs_offscreen_on_sqlite_without_postgresql(workflow: dict[Any, Any]) -> None:
    assert workflow["env"]["QT_QPA_PLATFORM"] == "offscreen"
    scripts = _scripts(workflow, "tests")
    assert 'pip install -e ".[test]"' in scripts
    assert "python -m pytest" in scripts
    step = next(s for s in _steps(workflow, "tests") if "pytest" in str(s.get("run", "")))
    assert step["env"]["MOTCUA_TEST_DB"] == "sqlite"
    # tests/conftest.py decides from pg_ctl on PATH whether to start a server
    assert "shutil.which(\"pg_ctl\")" in (ROOT / "tests" / "conftest.py").read_text("utf-8")
    assert "-notmatch 'PostgreSQL'" in scripts and "Get-Command pg_ctl" in scripts


def test_bundle_and_installer_are_built_from_the_repository_files(
        workflow: dict[Any, Any]) -> None:
    scripts = _scripts(workflow, "installer")
    for path in ("packaging/motcua.spec", "packaging/requirements-lock.txt",
                 r"packaging\windows\motcua.nsi", "packaging/provision.example.json"):
        assert path in scripts, path
        assert (ROOT / path.replace("\\", "/")).is_file(), path
    assert "python -m PyInstaller" in scripts
    # the locked versions, hash-checked, and the app on top without resolving again
    assert "pip install --require-hashes -r packaging/requirements-lock.txt" in scripts
    assert "pip install --no-deps -e ." in scripts
    assert "choco install nsis" in scripts
    # the same makensis defines as packaging/windows/build.sh
    build_sh = (ROOT / "packaging" / "windows" / "build.sh").read_text(encoding="utf-8")
    for define in ("SOURCE_DIR", "VERSION", "VI_VERSION", "OUTFILE", "COMPRESSOR"):
        assert f'"-D{define}=' in build_sh and f'"-D{define}=' in scripts, define
    assert "-INPUTCHARSET UTF8 -WX" in scripts


def test_silent_install_uses_what_the_installer_supports(workflow: dict[Any, Any]) -> None:
    nsi = (ROOT / "packaging" / "windows" / "motcua.nsi").read_text(encoding="utf-8-sig")
    assert '${GetOptions} $R0 "/PROVISION=" $ProvisionFile' in nsi
    assert 'InstallDir "$PROGRAMFILES64\\${APP_ID}"' in nsi
    app_id = re.search(r'!define APP_ID "([^"]+)"', nsi)
    assert app_id is not None
    install_dir = workflow["jobs"]["installer"]["env"]["INSTALL_DIR"]
    assert install_dir == rf"C:\Program Files\{app_id.group(1)}"
    scripts = _scripts(workflow, "installer")
    assert "'/S', \"/PROVISION=" in scripts
    assert "Uninstall.exe\" -ArgumentList '/S'" in scripts


def _cli_calls(scripts: str) -> list[list[str]]:
    """Each `& …motcua.exe SUBCOMMAND --option …` that the scripts run: its bare words
    and options (quoted arguments and variables are left out)."""
    calls = []
    for line in scripts.splitlines():
        for m in re.finditer(r'&\s+"?[^"\s]*motcua\.exe"?\s+(.*)$', line):
            words = re.findall(r"(?:^|\s)(--?[a-z-]+|[a-z][a-z-]*)(?=\s|$)", m.group(1))
            calls.append(words)
    return calls


def test_installed_commands_exist_with_their_options(workflow: dict[Any, Any]) -> None:
    scripts = _scripts(workflow, "installer")
    calls = _cli_calls(scripts)
    parser = build_parser()
    top = {o for a in parser._actions for o in a.option_strings}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen = set()
    assert len(calls) >= 8, calls
    for words in calls:
        if words[0].startswith("-"):
            assert words[0] in top, words
            seen.add(words[0])
            continue
        assert words[0] in sub.choices, words
        seen.add(words[0])
        options = {o for a in sub.choices[words[0]]._actions for o in a.option_strings}
        for w in words[1:]:
            if w.startswith("-"):
                assert w in options, (words[0], w)
    assert {"--version", "doctor", "demo", "id-qr", "support-bundle"} <= seen
    assert "demo --out" in scripts and "id-qr $payload --json" in scripts


def test_doctor_accepts_warnings_and_fails_on_failures(workflow: dict[Any, Any]) -> None:
    step = next(s for s in _steps(workflow, "installer") if s.get("name") == "motcua.exe doctor")
    assert "if ($rc -gt 1) { throw" in step["run"]


def test_installer_and_logs_are_uploaded(workflow: dict[Any, Any]) -> None:
    uploads = [s for s in _steps(workflow, "installer")
               if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    paths = "\n".join(str(s["with"]["path"]) for s in uploads)
    assert "out/*.exe" in paths and "smoke/" in paths
    assert all(s["if"] == "${{ !cancelled() }}" for s in uploads)
    assert r"MotCuaOffline\logs" not in paths  # copied into smoke/ by a step instead
    assert "$data\\logs" in _scripts(workflow, "installer")


def test_actionlint_finds_nothing() -> None:
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip("actionlint is not installed")
    done = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_links_the_workflow_and_the_pilot_checklist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for target in (".github/workflows/windows.yml", "docs/windows-pilot.md"):
        assert f"]({target})" in readme, target
        assert (ROOT / target).is_file(), target
    pilot = (ROOT / "docs" / "windows-pilot.md").read_text(encoding="utf-8")
    for log in ("motcua-gui.log", "motcua-sync.log", "motcua-cli.log", "crash.log"):
        assert log in pilot and log in readme, log
