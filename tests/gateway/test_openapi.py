"""The checked-in OpenAPI document is the one the gateway generates."""

from __future__ import annotations

import json
from pathlib import Path

from provincial_gateway.openapi_export import render
from sync_contract import wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"


def test_checked_in_openapi_is_current() -> None:
    generated = render()
    assert DOC.read_text(encoding="utf-8") == generated, (
        "run: python -m provincial_gateway.openapi_export docs/api/openapi.json")
    spec = json.loads(generated)
    assert spec["info"] == {"title": "Một Cửa Offline — provincial gateway", "version": "1.3",
                            "description": wire.__doc__}
    for path in (wire.HEALTH, wire.CATALOG, wire.CALENDAR, wire.CLERKS, wire.BLOBS_MISSING,
                 wire.BLOB, wire.FILES, wire.FILES + "{upload_id}", wire.DOSSIER, wire.EVENTS,
                 wire.CHANGES, wire.BUNDLES, wire.DOSSIER_BATCH, wire.CITIZEN_DOCUMENTS):
        assert path in spec["paths"], path
    assert {"options", "post"} <= set(spec["paths"][wire.FILES])
    assert {"head", "patch", "delete"} <= set(spec["paths"][wire.FILES + "{upload_id}"])
    assert set(spec["paths"][wire.DOSSIER_BATCH]) == {"post"}  # contract 1.1
    schemas = spec["components"]["schemas"]
    for model in ("ErrorBody", "DossierAck", "DossierDocument", "EventIn", "ChangesBody",
                  "BundleReceipt", "Health", "DossierBatch", "DossierBatchResult"):
        assert model in schemas, model
    assert not any(p.startswith("/admin") for p in spec["paths"])
