"""The update channel's provisioning keys: the province's release public key (checked,
stored without a schema change) and the optional rate cap."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop_app.context import open_context
from desktop_app.sync.update_settings import max_kbps, release_public_key
from sync_contract import release_manifest as rm

from .test_provisioning import BASE, Run, provision, write  # noqa: F401


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_NO_KEYRING", "1")
    for name in ("MOTCUA_STATION_TOKEN", "MOTCUA_DB_URL", "MOTCUA_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_release_key_is_checked_and_stored(tmp_path, provision: Run) -> None:  # noqa: F811
    key = rm.public_key_text(Ed25519PrivateKey.generate())
    data_dir = tmp_path / "data"
    code, _, err = provision(write(tmp_path, {**BASE, "release_public_key": key.upper()
                                                .replace("ED25519:", "ed25519:"),
                                                "update_max_kbps": 128}), data_dir)
    assert code == 0, err
    ctx = open_context(data_dir)
    try:
        assert release_public_key(ctx) == key
        assert max_kbps(ctx) == 128
    finally:
        ctx.close()

    for bad in ("ed25519:1234", "ssh-ed25519 AAAAC3Nza", 42):
        code, _, err = provision(write(tmp_path, {**BASE, "release_public_key": bad}, "b.json"),
                                 tmp_path / "other")
        assert code == 2
        assert "release_public_key:" in err
    code, _, err = provision(write(tmp_path, {**BASE, "update_max_kbps": 2}, "c.json"),
                             tmp_path / "other")
    assert code == 2 and "update_max_kbps: phải từ 8" in err
