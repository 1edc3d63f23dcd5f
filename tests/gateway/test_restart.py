"""kill -9 of the gateway process in the middle of an upload, then a restart."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import requests

from provincial_gateway import admin_cli
from provincial_gateway.server import GatewayProcess
from sync_contract import wire
from tests.gateway.tus_helpers import create, head_offset, patch, start_partial_patch, wait_for
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document

TOKEN = "restart-test-station-token-0123456789"


def test_kill_during_upload_restart_and_complete(tmp_path: Path) -> None:
    data_dir = tmp_path / "gw"
    assert admin_cli.main(["add-station", "--data", str(data_dir), "--agency", AGENCY,
                           "--digit", "1", "--name", "Quầy 1", "--token", TOKEN]) == 0
    data = os.urandom(1_000_000)
    sha = hashlib.sha256(data).hexdigest()
    gw = GatewayProcess(data_dir)
    try:
        gw.start()
        doc = sample_document()
        resp = requests.put(gw.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                            headers=auth_headers(TOKEN), timeout=10)
        assert resp.json()["result"] == "created"

        location = create(gw.url, TOKEN, data)
        upload = location.rsplit("/", 1)[1]
        assert patch(location, TOKEN, 0, data[:300_000]).status_code == 204

        def spooled() -> int:
            return sum(p.stat().st_size
                       for p in (data_dir / "uploads").glob(f"patch-{upload}-*"))

        sock = start_partial_patch(location, TOKEN, 300_000, data[300_000:], 400_000)
        wait_for(lambda: spooled() >= 400_000)
        gw.kill()  # SIGKILL while the PATCH is being received; its lease is still held
        sock.close()
        assert spooled() >= 400_000  # bytes never recorded

        gw.start()
        assert spooled() == 0  # the dead process's spool is gone
        offset = head_offset(location, TOKEN)
        assert offset == 300_000
        # The dead process's lease does not hold the upload up: no 423, no 30 s wait.
        assert patch(location, TOKEN, offset, data[offset:]).status_code == 204
        assert not (data_dir / "upload-segments" / upload).exists()

        blob = data_dir / "blobs" / sha[:2] / sha[2:]
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == sha
        got = requests.get(gw.url + wire.BLOB.format(sha256=sha), headers=auth_headers(TOKEN),
                           timeout=10)
        assert got.content == data
        again = requests.put(gw.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                             headers=auth_headers(TOKEN), timeout=10)
        assert again.json()["result"] == "unchanged"
    finally:
        gw.stop()
