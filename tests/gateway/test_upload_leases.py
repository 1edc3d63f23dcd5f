"""The database lease each tus write takes, and the offset compare-and-set under it."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, update

from provincial_gateway import tus
from provincial_gateway import upload_leases as leases
from provincial_gateway.db import UploadLease, UploadSegment, utcnow
from provincial_gateway.server import GatewayServer
from tests.gateway.tus_helpers import create, head_offset

UPLOAD = "0" * 31 + "1"


def test_one_holder_at_a_time(gateway: GatewayServer) -> None:
    state = gateway.state
    first, second = leases.new_holder(), leases.new_holder()
    assert first != second
    assert leases.try_take(state, UPLOAD, first)
    assert leases.try_take(state, UPLOAD, first)  # taking it again renews it
    assert not leases.try_take(state, UPLOAD, second)
    assert leases.is_held(state, UPLOAD)
    assert leases.renew(state, UPLOAD, first) and not leases.renew(state, UPLOAD, second)
    leases.release(state, UPLOAD, second)  # not second's to give back: still held
    assert not leases.try_take(state, UPLOAD, second)
    leases.release(state, UPLOAD, first)
    assert not leases.is_held(state, UPLOAD)
    assert leases.try_take(state, UPLOAD, second)


def test_a_lease_that_ran_out_is_taken(gateway: GatewayServer) -> None:
    """A replica on another machine that froze: its lease runs out, and it cannot renew
    it once another request has taken it."""
    state = gateway.state
    frozen = "other-machine/4242/1700000000000/0123456789ab"
    assert leases.try_take(state, UPLOAD, frozen)
    taker = leases.new_holder()
    assert not leases.try_take(state, UPLOAD, taker)
    with state.sessions.begin() as s:
        s.execute(update(UploadLease).values(held_until=utcnow() - timedelta(seconds=1)))
    assert leases.try_take(state, UPLOAD, taker)
    assert not leases.renew(state, UPLOAD, frozen)


def test_a_dead_process_on_this_machine_does_not_hold_an_upload(
        gateway: GatewayServer) -> None:
    state = gateway.state
    child = subprocess.run([sys.executable, "-c",
                            "from provincial_gateway import upload_leases as l;"
                            "print(l.new_holder())"],
                           capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONPATH": os.getcwd()})
    dead = child.stdout.strip()
    assert leases.try_take(state, UPLOAD, dead)  # the child has exited since
    live = leases.new_holder()
    assert leases.try_take(state, UPLOAD, live)
    # ...but a live process's lease is respected.
    assert not leases.try_take(state, UPLOAD, leases.new_holder())


def test_only_one_patch_at_an_offset_is_recorded(gateway: GatewayServer,
                                                 station_token: str) -> None:
    """Two writes that both began at offset 0 (say, a replica that lost its lease while
    frozen): the first recorded wins, the second's segment is dropped, not stored."""
    location = create(gateway.url, station_token, b"x" * 10)
    upload = location.rsplit("/", 1)[1]
    blobs = gateway.state.blobs
    first, second = blobs.scratch / "first.part", blobs.scratch / "second.part"
    first.write_bytes(b"x" * 4)
    second.write_bytes(b"y" * 6)
    assert tus._record_segment(gateway.state, upload, 0, 4, first)
    assert not tus._record_segment(gateway.state, upload, 0, 6, second)
    assert head_offset(location, station_token) == 4
    with gateway.sessions() as s:
        rows = s.execute(select(UploadSegment.offset, UploadSegment.length, UploadSegment.name)
                         .where(UploadSegment.upload_id == upload)).all()
    assert [(r.offset, r.length) for r in rows] == [(0, 4)]
    assert [p.name for p in (blobs.segments / upload).iterdir()] == [rows[0].name]
    assert not first.exists() and not second.exists()
