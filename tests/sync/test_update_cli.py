"""`motcua update --check/--download/--install` against the real gateway: the exit codes
scripts rely on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop_app import cli
from desktop_app.context import AppContext
from desktop_app.station import StationInfo, StationService
from desktop_app.sync.service import SyncService
from desktop_app.sync.update_settings import remember_update_settings
from desktop_app.sync.update_store import this_platform
from provincial_gateway.server import GatewayServer
from sync_contract import release_manifest as rm

from .test_update_channel import installer_bytes, publish


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")


def update(ctx: AppContext, capsys: pytest.CaptureFixture[str], *flags: str
           ) -> tuple[int, dict]:
    code = cli.main(["update", *flags, "--json", "--data-dir", str(ctx.paths.root)])
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1])


def test_exit_codes(ctx: AppContext, station: StationInfo, gateway: GatewayServer,
                    station_token: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_DB_URL", str(ctx.db.engine.url))
    key = Ed25519PrivateKey.generate()
    StationService(ctx).save(replace(station, gateway_url=gateway.url))
    SyncService(ctx).set_token(station_token)
    code, said = update(ctx, capsys, "--check")
    assert code == 2 and "release_public_key" in said["message"]  # not provisioned for it
    remember_update_settings(ctx, rm.public_key_text(key), None)
    assert update(ctx, capsys, "--check")[0] == 0  # nothing published
    assert update(ctx, capsys, "--install")[0] == 1  # nothing to install

    data = installer_bytes(80_000)
    publish(gateway, tmp_path, "999.1.0", key, data, platform=this_platform())
    code, said = update(ctx, capsys, "--check")
    assert (code, said["version"]) == (1, "999.1.0")
    code, said = update(ctx, capsys, "--download")
    assert code == 0 and said["status"]["state"] == "ready"
    assert update(ctx, capsys, "--check")[0] == 8
    code, said = update(ctx, capsys, "--install")
    assert code == 0
    if this_platform() == "linux-deb":
        assert said["command"].startswith("sudo apt install ")
        assert said["command"].endswith("motcua-offline_999.1.0_amd64.deb")

    publish(gateway, tmp_path, "999.2.0", Ed25519PrivateKey.generate(),
            platform=this_platform())  # signed by somebody else
    code, said = update(ctx, capsys, "--download")
    assert code == 4 and "chữ ký không hợp lệ" in said["message"]
    assert update(ctx, capsys, "--check")[0] == 4
