"""Publishing installers on the reference gateway: keys, signatures, the manifest route
and the resumable (Range) download, through the real server and its command line."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from provincial_gateway import admin_cli, releases
from provincial_gateway.server import GatewayServer
from sync_contract import release_manifest as rm
from sync_contract import wire
from tests.support.gateway_fixtures import auth_headers


def run_cli(gateway: GatewayServer, *argv: str) -> int:
    return admin_cli.main([*argv, "--data", str(gateway.state.config.data_dir),
                           *(["--db", gateway.state.config.database_url]
                             if not gateway.state.config.database_url.startswith("sqlite")
                             else [])])


def test_release_key_publish_and_manifest(gateway: GatewayServer, station_token: str,
                                          tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert admin_cli.main(["release-key", "new", "--out", str(tmp_path / "keys")]) == 0
    out = capsys.readouterr().out
    private = tmp_path / "keys" / "release-key.pem"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    public_text = (tmp_path / "keys" / "release-public-key.txt").read_text().strip()
    assert f'"release_public_key": "{public_text}"' in out
    assert rm.parse_public_key(public_text)

    installer = tmp_path / "motcua-offline-1.4.0-setup.exe"
    installer.write_bytes(os.urandom(50_000))
    sha = hashlib.sha256(installer.read_bytes()).hexdigest()
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.4.0",
                   "--sign-key", str(private)) == 0
    assert "1.4.0 (windows)" in capsys.readouterr().out

    url = gateway.url + rm.UPDATES_LATEST
    assert requests.get(url, params={"platform": "windows"}, timeout=10).status_code == 401
    resp = requests.get(url, params={"platform": "windows"}, headers=auth_headers(station_token),
                        timeout=10)
    assert resp.status_code == 200, resp.text
    manifest = rm.UpdateManifest.model_validate(resp.json())
    assert (manifest.version, manifest.platform, manifest.sha256, manifest.size) == (
        "1.4.0", "windows", sha, 50_000)
    assert manifest.download_path == wire.BLOB.format(sha256=sha)
    assert rm.verify(public_text, manifest)
    # The signature binds the version and the platform.
    assert not rm.verify(public_text, manifest.model_copy(update={"version": "1.5.0"}))
    assert not rm.verify(public_text, manifest.model_copy(update={"platform": "linux-deb"}))

    other = requests.get(url, params={"platform": "linux-deb"},
                         headers=auth_headers(station_token), timeout=10)
    assert other.status_code == 404 and other.json()["code"] == rm.E_NO_UPDATE
    bad = requests.get(url, params={"platform": "macos"}, headers=auth_headers(station_token),
                       timeout=10)
    assert bad.status_code == 422


def test_installer_download_supports_range(gateway: GatewayServer, station_token: str,
                                           tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    installer = tmp_path / "motcua.deb"
    data = os.urandom(40_000)
    installer.write_bytes(data)
    _, signature = releases.sign_installer(installer, "2.0.0", None, key)
    done = releases.publish(gateway.state, installer, "2.0.0", signature=signature)
    assert done.platform == "linux-deb"
    path = gateway.url + wire.BLOB.format(sha256=done.sha256)
    # Any station may fetch a published installer (another agency's too).
    for token in (station_token, gateway.add_station("000.00.99.H99", 1, "Xã khác")):
        resp = requests.get(path, headers={**auth_headers(token), "Range": "bytes=1000-1999",
                                           "If-Range": f'"{done.sha256}"'}, timeout=10)
        assert resp.status_code == 206
        assert resp.content == data[1000:2000]
        assert resp.headers["Content-Range"] == "bytes 1000-1999/40000"
    assert requests.get(path, timeout=10).status_code == 401


def test_publication_rules(gateway: GatewayServer, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    key = Ed25519PrivateKey.generate()
    public = rm.public_key_text(key)
    installer = tmp_path / "setup.exe"
    installer.write_bytes(b"MZ" + os.urandom(10_000))
    sig_file = tmp_path / "setup.sig"
    assert admin_cli.main(["release-key", "new", "--out", str(tmp_path / "k")]) == 0
    key_file = tmp_path / "k" / "release-key.pem"
    assert admin_cli.main(["release-key", "sign", str(installer), "--version", "1.0.0",
                           "--key", str(key_file), "--out", str(sig_file)]) == 0
    capsys.readouterr()
    # Checked against another public key than the one that signed: refused, not published.
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.0.0",
                   "--signature", str(sig_file), "--public-key", public) == 1
    assert "Chữ ký không khớp" in capsys.readouterr().err
    assert releases.list_releases(gateway.state) == []
    # A signature for 1.0.0 published as 1.1.0 would be refused by every station; the
    # right key catches it here.
    right = (tmp_path / "k" / "release-public-key.txt")
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.1.0",
                   "--signature", str(sig_file), "--public-key", str(right)) == 1
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.0.0",
                   "--signature", str(sig_file), "--public-key", str(right)) == 0
    # Publishing the same again is a no-op; another file under the same version is refused.
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.0.0",
                   "--signature", str(sig_file)) == 0
    other = tmp_path / "other.exe"
    other.write_bytes(b"MZ" + os.urandom(10_000))
    assert run_cli(gateway, "publish-update", str(other), "--version", "1.0.0",
                   "--sign-key", str(key_file)) == 1
    assert run_cli(gateway, "publish-update", str(installer), "--version", "banana",
                   "--sign-key", str(key_file)) == 1
    assert run_cli(gateway, "publish-update", str(installer), "--version", "1.2.0") == 1
    capsys.readouterr()
    # Newest by version, not by publication order.
    _, sig = releases.sign_installer(other, "0.9.0", None, releases.load_release_key(key_file))
    releases.publish(gateway.state, other, "0.9.0", signature=sig)
    latest = releases.latest(gateway.state, "windows")
    assert latest is not None and latest.version == "1.0.0"
    assert run_cli(gateway, "updates") == 0
    assert "1.0.0" in capsys.readouterr().out
