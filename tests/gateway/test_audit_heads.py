"""The gateway keeps each station's audit-chain heads (X-Audit-Head on the dossier
routes) and flags a head that goes backwards, forks or no longer extends what it saw."""

from __future__ import annotations

import logging

import pytest
import requests
from sqlalchemy import select

from provincial_gateway import admin_cli
from provincial_gateway.db import AuditHead
from provincial_gateway.server import GatewayServer
from sync_contract import wire
from tests.support.gateway_fixtures import AGENCY, auth_headers, sample_document

CHAIN = "5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5"


def h(n: int) -> str:
    return f"{n:064x}"


def send(gateway: GatewayServer, token: str, seq: int, digest: str,
         anchor: str | None = None, route: str = "changes") -> str:
    headers = {**auth_headers(token), wire.AUDIT_HEAD_HEADER: f"{CHAIN};{seq};{digest}"}
    if anchor is not None:
        headers[wire.AUDIT_ANCHOR_HEADER] = anchor
    if route == "put":
        doc = sample_document(ma_ho_so=f"{AGENCY}-231027-1{seq:03d}")
        resp = requests.put(gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"]),
                            json=doc, headers=headers, timeout=5)
    else:
        resp = requests.get(gateway.url + wire.CHANGES, headers=headers, timeout=5)
    assert resp.status_code == 200, resp.text
    return resp.headers[wire.AUDIT_VERDICT_HEADER]


def heads(gateway: GatewayServer) -> list[tuple[int, str, str]]:
    with gateway.sessions() as s:
        return [(r.seq, r.hash, r.verdict)
                for r in s.scalars(select(AuditHead).order_by(AuditHead.id))]


def test_heads_are_kept_and_a_rewound_head_is_flagged(
        gateway: GatewayServer, station_token: str, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    assert send(gateway, station_token, 10, h(10), route="put") == "accepted"
    assert send(gateway, station_token, 10, h(10)) == "accepted"  # again: kept once
    assert send(gateway, station_token, 25, h(25), anchor=f"10;{h(10)}") == "accepted"
    assert heads(gateway) == [(10, h(10), "accepted"), (25, h(25), "accepted")]

    caplog.set_level(logging.WARNING, logger="provincial_gateway")
    assert send(gateway, station_token, 20, h(20), route="put") == "rewound"  # cut off
    assert send(gateway, station_token, 25, h(99)) == "forked"  # same seq, other hash
    # Grown past what was seen, but the entry at seq 10 is no longer the one reported.
    assert send(gateway, station_token, 40, h(40), anchor=f"10;{h(11)}") == "rewritten"
    assert send(gateway, station_token, 41, h(41), anchor="25;") == "rewritten"  # gone
    assert [v for _, _, v in heads(gateway)] == [
        "accepted", "accepted", "rewound", "forked", "rewritten", "rewritten"]
    assert "flagged rewound: chain " + CHAIN + " seq 20" in caplog.text

    code = admin_cli.main(["audit-heads", "--data", str(gateway.config.data_dir)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 4 and all("quầy 1" in line for line in lines)
    assert "rewound" in out and "số 20" in out and "seq 20 is below seq 25" in out
    code = admin_cli.main(["audit-heads", "--all", "--data", str(gateway.config.data_dir)])
    assert code == 0 and len(capsys.readouterr().out.strip().splitlines()) == 6


def test_no_head_or_a_malformed_one_changes_nothing(gateway: GatewayServer,
                                                    station_token: str) -> None:
    doc = sample_document()
    url = gateway.url + wire.DOSSIER.format(client_id=doc["ClientId"])
    plain = requests.put(url, json=doc, headers=auth_headers(station_token), timeout=5)
    bad = requests.put(url, json=doc, timeout=5, headers={
        **auth_headers(station_token), wire.AUDIT_HEAD_HEADER: "x;1;not-a-hash"})
    assert plain.status_code == bad.status_code == 200
    assert wire.AUDIT_VERDICT_HEADER not in plain.headers
    assert wire.AUDIT_VERDICT_HEADER not in bad.headers
    assert heads(gateway) == []
