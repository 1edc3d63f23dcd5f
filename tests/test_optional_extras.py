"""The `gateway` and `postgresql` extras (pyproject.toml): a counter installed without
them runs, and asking for what they carry says what to install instead of a traceback.
Each case is a real `motcua` process in which those packages cannot be imported
(tests/support/without_modules.py), as after `pip install motcua-offline`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.cli import EXIT_DATABASE_UNAVAILABLE
from desktop_app.commands.gateway_cmd import EXIT_NOT_INSTALLED

pytestmark = pytest.mark.nodb

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "support" / "without_modules.py"
GATEWAY = "fastapi,starlette,uvicorn"
POSTGRESQL = "psycopg,psycopg_binary,psycopg_c,psycopg2"


def run(blocked: str, *args: str, data_dir: Path,
        db_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MOTCUA_DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8")
    env.pop("MOTCUA_DB_URL", None)
    if db_url:
        env["MOTCUA_DB_URL"] = db_url
    return subprocess.run([sys.executable, str(RUNNER), blocked, *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, encoding="utf-8")


def test_no_station_module_imports_the_gateway_or_postgresql_packages(tmp_path: Path) -> None:
    r = run(f"{GATEWAY},{POSTGRESQL}", "--import-all", "desktop_app", "ui", "local_db",
            "sync_contract", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == []  # no blocked package was even asked for


def test_the_runner_really_blocks(tmp_path: Path) -> None:
    r = run(GATEWAY, "--import-all", "provincial_gateway", data_dir=tmp_path)
    assert r.returncode != 0 and "No module named 'starlette'" in r.stderr


def test_counter_commands_without_the_gateway_extra(tmp_path: Path) -> None:
    r = run(GATEWAY, "-m", "desktop_app.cli", "--version", data_dir=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("motcua "), r.stderr
    r = run(GATEWAY, "-m", "desktop_app.cli", "doctor", "--help", data_dir=tmp_path)
    assert r.returncode == 0 and "--json" in r.stdout, r.stderr
    r = run(GATEWAY, "-m", "desktop_app.cli", "calendar", "2024", "--json", data_dir=tmp_path)
    assert r.returncode == 0 and '"working_days": 251' in r.stdout, r.stderr


@pytest.mark.parametrize("args", [["gateway", "serve", "--help"], ["gateway"],
                                  ["gateway", "add-station", "--help"]])
def test_gateway_without_its_extra_says_what_to_install(tmp_path: Path,
                                                        args: list[str]) -> None:
    r = run(GATEWAY, "-m", "desktop_app.cli", *args, data_dir=tmp_path)
    assert r.returncode == EXIT_NOT_INSTALLED == 2
    assert "Cài thêm: pip install 'motcua-offline[gateway]'" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_gateway_with_its_extra_still_answers(tmp_path: Path) -> None:
    r = run("", "-m", "desktop_app.cli", "gateway", "serve", "--help", data_dir=tmp_path)
    assert r.returncode == 0 and "--tls-cert" in r.stdout, r.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("args", [["sync", "--once"], ["retention", "--dry-run"],
                                  ["report", "dashboard", "--from", "2024-01-01",
                                   "--to", "2024-01-31"]])
def test_lan_database_without_the_driver_is_exit_5(tmp_path: Path, args: list[str]) -> None:
    port = _free_port()
    r = run(POSTGRESQL, "-m", "desktop_app.cli", *args, data_dir=tmp_path / "data",
            db_url=f"postgresql+psycopg://motcua@127.0.0.1:{port}/motcua")
    assert r.returncode == EXIT_DATABASE_UNAVAILABLE == 5, r.stderr[-3000:]
    assert f"máy chủ dữ liệu PostgreSQL của xã (127.0.0.1:{port})" in r.stderr
    assert "Cài thêm: pip install 'motcua-offline[postgresql]'" in r.stderr
    assert "Traceback" not in r.stderr


def test_doctor_names_the_missing_driver(tmp_path: Path) -> None:
    """doctor keeps its own codes (2: a failure) and says the same words in its report."""
    r = run(POSTGRESQL, "-m", "desktop_app.cli", "doctor", data_dir=tmp_path / "data",
            db_url=f"postgresql://motcua@127.0.0.1:{_free_port()}/motcua")
    assert r.returncode == 2, r.stderr[-3000:]
    assert "pip install 'motcua-offline[postgresql]'" in r.stdout
    assert "Traceback" not in r.stderr


def test_training_without_the_gateway_extra_says_what_to_install(tmp_path: Path) -> None:
    # The simulated province is the reference gateway; the fictional citizens' cards are not.
    r = run(GATEWAY, "-m", "tests.support.training_probe", str(tmp_path / "tap-huan"),
            str(tmp_path / "station"), data_dir=tmp_path / "station")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Chế độ tập huấn cần hệ thống tỉnh mẫu" in r.stderr
    assert "pip install 'motcua-offline[gateway]'" in r.stderr
    assert "Traceback" not in r.stderr
    cards = tmp_path / "the.pdf"
    r = run(GATEWAY, "-m", "desktop_app.cli", "training", "--cards", str(cards),
            data_dir=tmp_path / "station")
    assert r.returncode == 0, r.stderr
    assert cards.read_bytes()[:5] == b"%PDF-"
