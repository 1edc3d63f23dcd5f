"""The change feed's lock on PostgreSQL is per agency: one agency's open feed transaction
does not hold up another agency's dossiers, and a reader paging its agency's feed while
several writers append to it sees every change exactly once, in order."""

from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
import requests
from sqlalchemy import select

from provincial_gateway.db import Change, Dossier
from provincial_gateway.dossiers import (
    FEED_LOCK_NAMESPACE,
    FeedEntry,
    append_changes,
    changes_since,
    set_status,
)
from provincial_gateway.server import GatewayServer
from provincial_gateway.timeutil import national_now
from sync_contract import wire
from tests.conftest import ON_POSTGRESQL
from tests.support.gateway_fixtures import AGENCY, add_station, auth_headers, sample_document

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL,
                                reason="advisory locks: PostgreSQL only (MOTCUA_TEST_DB)")

OTHER = "000.00.13.H12"


def put_new(gw: GatewayServer, token: str, agency: str, n: int) -> requests.Response:
    doc = sample_document(client_id=str(uuid.uuid4()), ma_ho_so=f"{agency}-231027-1{n:03d}",
                          agency=agency)
    return requests.put(gw.url + wire.DOSSIER.format(client_id=doc["ClientId"]), json=doc,
                        headers=auth_headers(token), timeout=20)


def feed_lock_free(gw: GatewayServer, agency: str) -> bool:
    """Whether another connection could take `agency`'s feed lock right now."""
    url = gw.state.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                           (FEED_LOCK_NAMESPACE, agency)).fetchone()
    return bool(row and row[0])


def test_an_open_feed_transaction_of_one_agency_does_not_block_another(
        gateway: GatewayServer) -> None:
    token_a = add_station(gateway, AGENCY)
    token_b = add_station(gateway, OTHER)
    assert put_new(gateway, token_a, AGENCY, 1).status_code == 200
    with gateway.sessions() as s:  # a transaction left open, as a slow writer's
        d = s.scalar(select(Dossier).where(Dossier.agency_code == AGENCY))
        assert d is not None
        append_changes(s, [FeedEntry(d, 4, national_now(), "Đang xử lý")])
        assert not feed_lock_free(gateway, AGENCY)  # A's feed really is held
        # B's new dossier appends to B's feed: it commits while A's transaction is open
        # (with one lock for the whole province it would wait, and time out here).
        answer = put_new(gateway, token_b, OTHER, 1)
        assert answer.status_code == 200
        assert answer.json()["result"] == "created"
        s.rollback()
    assert changes_since(gateway.state, OTHER, 0, 10).changes[0].ClientId == \
        answer.json()["ClientId"]
    assert [c.TrangThaiHoSo for c in changes_since(gateway.state, AGENCY, 0, 10).changes] == [2]


def test_a_reader_sees_every_change_of_its_agency_once_under_concurrent_writers(
        gateway: GatewayServer) -> None:
    token_a = add_station(gateway, AGENCY)
    token_b = add_station(gateway, OTHER)
    codes_a = [f"{AGENCY}-231027-1{n:03d}" for n in range(4)]
    for n in range(4):
        assert put_new(gateway, token_a, AGENCY, n).status_code == 200
    assert put_new(gateway, token_b, OTHER, 0).status_code == 200
    writes = 30
    errors: list[BaseException] = []

    def writer(code: str) -> None:
        try:
            for k in range(writes):
                set_status(gateway.state, code, 4 + k % 2, note=f"bước {k}")
        except BaseException as exc:  # the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(code,)) for code in codes_a]
    # Another agency's writer: its seqs interleave with A's, as on a busy gateway.
    threads.append(threading.Thread(target=writer, args=(f"{OTHER}-231027-1000",)))
    seen: list[int] = []
    cursor = 0
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        page = changes_since(gateway.state, AGENCY, cursor, 7)
        seen += [c.seq for c in page.changes]
        cursor = page.cursor
    for t in threads:
        t.join()
    while True:  # what was committed after the last poll
        page = changes_since(gateway.state, AGENCY, cursor, 50)
        seen += [c.seq for c in page.changes]
        cursor = page.cursor
        if not page.more:
            break
    assert not errors
    with gateway.sessions() as s:
        stored = list(s.scalars(select(Change.seq).where(Change.agency_code == AGENCY)
                                .order_by(Change.seq)))
    assert len(stored) == 4 + 4 * writes
    assert seen == stored  # each seq once, in order, none skipped
