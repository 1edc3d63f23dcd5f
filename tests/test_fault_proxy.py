"""FaultProxy over real sockets: a small threaded HTTP upstream, `requests` as the client."""

from __future__ import annotations

import itertools
import logging
import os
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from tests.support.fault_proxy import (
    _SLACK_SECONDS,
    FaultProxy,
    LinkProfile,
    SliceRecord,
    _Dice,
    _Shaper,
)
from tests.support.upstream import Upstream, payload, serve_upstream, sha

pytestmark = pytest.mark.nodb

LINK_ERRORS = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
# asyncio may run a timer up to its clock's resolution early.
EARLY = 1e-6


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    with serve_upstream() as server:
        yield server


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", upstream.server_address[1], record=True) as p:
        yield p


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # never route loopback through an HTTP_PROXY from the env
    return session


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with _session() as session:
        yield session


def _get(session: requests.Session, proxy: FaultProxy, path: str) -> requests.Response:
    return session.get(proxy.url_for() + path, timeout=10)


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _raw_get(proxy: FaultProxy, path: str = "/ping") -> socket.socket:
    """Open a raw connection through the proxy and complete one keep-alive request."""
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: upstream\r\n\r\n".encode())
    received = b""
    while not received.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the response"
        received += chunk
    return sock


def _assert_dropped(sock: socket.socket) -> None:
    """The peer must see the connection end (reset, or at worst FIN), not hang."""
    sock.settimeout(3)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    finally:
        sock.close()


# -- forwarding -----------------------------------------------------------------------


def test_forwards_1mb_both_ways_intact(proxy: FaultProxy, http: requests.Session) -> None:
    body = os.urandom(1 << 20)
    response = http.post(proxy.url_for() + "/echo", data=body, timeout=10)

    assert response.status_code == 200
    assert response.headers["X-SHA256"] == sha(body)  # arrived upstream intact
    assert sha(response.content) == sha(body)  # and came back intact
    counters = proxy.counters()
    assert counters.bytes_up > 1 << 20
    assert counters.bytes_down > 1 << 20
    assert (counters.connections, counters.cuts, counters.refused) == (1, 0, 0)


def test_half_close_is_forwarded_both_ways() -> None:
    """The upstream replies only after EOF, so our FIN must reach it and its FIN come back."""
    listener = socket.create_server(("127.0.0.1", 0))

    def echo_after_eof() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
            conn.sendall(data[::-1])

    thread = threading.Thread(target=echo_after_eof, daemon=True)
    thread.start()
    body = os.urandom(300_000)
    with FaultProxy("127.0.0.1", listener.getsockname()[1]) as proxy:
        proxy.set_profile(LinkProfile(latency_ms=10))
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
            sock.sendall(body)
            sock.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := sock.recv(65536):
                received += chunk
    thread.join(5)
    listener.close()
    assert received == body[::-1]


def test_many_concurrent_connections(proxy: FaultProxy) -> None:
    proxy.set_profile(LinkProfile(latency_ms=20))

    def fetch(i: int) -> bool:
        with _session() as session:
            return _get(session, proxy, f"/bytes/{20_000 + i}").content == payload(20_000 + i)

    with ThreadPoolExecutor(50) as pool:
        assert all(pool.map(fetch, range(50)))
    assert proxy.connections == 50


# -- latency and bandwidth ------------------------------------------------------------
# Checked on the proxy's schedule of what the link did (never early, never faster than the
# cap, never idle while data waits), which holds however busy the machine is; how close the
# measured times come to the ideal link is in bench/bench_fault_proxy.py.


def _assert_paced(slices: list[SliceRecord], bps: int) -> None:
    """Every slice went through one line at ``bps``: each held it exactly as long as its
    bytes take, one after the other whatever their connection, as soon as the line was
    free and the slice offered, and reached the other side only once its last bit left."""
    assert slices
    booked = sorted(slices, key=lambda s: s.line or (0.0, 0.0))
    free_at = None
    for s in booked:
        assert s.line is not None
        start, end = s.line
        # abs: line times are monotonic-clock floats (~1e4 s), whose spacing is ~1e-12 s
        assert end - start == pytest.approx(s.nbytes * 8 / bps, abs=1e-9)
        if free_at is not None:
            assert start >= free_at  # one slice at a time: the cap is never exceeded
            assert start <= max(free_at, s.offered_at)  # and the line is never left idle
        free_at = end
        assert s.delivered_at >= s.due - EARLY and s.due >= end


def test_shaper_is_one_line_booked_in_order() -> None:
    bps, mss = 256_000, 1460
    d = mss * 8 / bps  # 45.6 ms of line per slice
    shaper = _Shaper()
    # 64 kB offered at once leave in the time 64 kB take at 256 kbit/s, one after another.
    booked = [shaper.reserve(mss, bps, now=100.0) for _ in range(45)]
    assert booked[0] == pytest.approx((100.0 - _SLACK_SECONDS, 100.0 - _SLACK_SECONDS + d))
    assert all(b[0] == a[1] for a, b in itertools.pairwise(booked))
    assert booked[-1][1] - booked[0][0] == pytest.approx(45 * d)
    # A timer that woke a little late costs no line time (the rate holds)…
    end = booked[-1][1]
    assert shaper.reserve(mss, bps, now=end + 0.01)[0] == end
    # …but an idle link saves up no more than that slack for a burst.
    assert shaper.reserve(mss, bps, now=200.0)[0] == pytest.approx(200.0 - _SLACK_SECONDS)


def test_latency_adds_round_trips_without_serialising(proxy: FaultProxy) -> None:
    proxy.set_profile(LinkProfile(latency_ms=100))  # one way: RTT 200 ms
    with _session() as session:
        _get(session, proxy, "/ping")
        _get(session, proxy, "/ping")
        before_big = len(proxy.schedule().of("down"))
        big = _get(session, proxy, "/bytes/1048576")
    assert big.content == payload(1048576)
    schedule = proxy.schedule()
    (conn,) = schedule.connections  # the session kept its connection
    # A new connection: the handshake's round trip before anything reaches the server…
    assert conn.upstream_at is not None and conn.upstream_at - conn.accepted_at >= 0.2 - EARLY
    assert all(s.offered_at >= conn.upstream_at for s in schedule.slices)
    # …then every slice, either way, arrives one way's latency after it was offered: the
    # first request costs 2 RTT, a request on the kept-alive connection 1 RTT.
    for s in schedule.slices:
        assert s.line is None and s.due == pytest.approx(s.offered_at + 0.1)
        assert s.delivered_at >= s.due - EARLY
    first_answer = schedule.of("down")[0]
    assert first_answer.delivered_at - conn.accepted_at >= 0.4 - EARLY
    # Dozens of 64 kB reads in flight at once: the proxy takes the next one before the
    # previous one arrived, not one round trip per chunk.
    body = schedule.of("down")[before_big:]
    assert sum(s.nbytes for s in body) > 1048576
    assert any(b.offered_at < a.delivered_at for a, b in itertools.pairwise(body))


def test_bandwidth_cap_download(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.set_profile(LinkProfile(down_bps=256_000))
    response = _get(http, proxy, "/bytes/65536")

    assert response.content == payload(65536)
    schedule = proxy.schedule()
    down = schedule.of("down")
    assert sum(s.nbytes for s in down) == proxy.bytes_down  # body + headers, all capped
    assert max(s.nbytes for s in down) <= 1460  # trickled in segments, not 64 kB bursts
    _assert_paced(down, 256_000)
    assert all(s.line is None for s in schedule.of("up"))


def test_bandwidth_cap_upload(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.set_profile(LinkProfile(up_bps=256_000))
    body = os.urandom(65536)
    response = http.post(proxy.url_for() + "/hash", data=body, timeout=10)

    assert response.headers["X-SHA256"] == sha(body)
    schedule = proxy.schedule()
    up = schedule.of("up")
    assert sum(s.nbytes for s in up) == proxy.bytes_up
    _assert_paced(up, 256_000)
    assert all(s.line is None for s in schedule.of("down"))


def test_bandwidth_cap_is_shared_by_all_connections(proxy: FaultProxy,
                                                    upstream: Upstream) -> None:
    proxy.set_profile(LinkProfile(down_bps=512_000))
    upstream.together = threading.Barrier(2, timeout=60)  # both answers go out together

    def fetch(_: int) -> bytes:
        with _session() as session:
            return _get(session, proxy, "/together/32768").content

    try:
        with ThreadPoolExecutor(2) as pool:
            bodies = list(pool.map(fetch, range(2)))
    finally:
        upstream.together = None

    assert bodies == [payload(32768)] * 2
    down = proxy.schedule().of("down")
    assert sum(s.nbytes for s in down) == proxy.bytes_down
    # Both transfers through one 512 kbit/s pipe: their slices take turns on one line.
    _assert_paced(down, 512_000)
    turns = [s.conn for s in sorted(down, key=lambda s: s.line or (0.0, 0.0))]
    assert len(set(turns)) == 2
    assert sum(a != b for a, b in itertools.pairwise(turns)) > 2


def test_set_profile_applies_to_open_connections(proxy: FaultProxy, http: requests.Session) -> None:
    counts = []
    for profile in (LinkProfile(), LinkProfile(latency_ms=150), LinkProfile()):
        proxy.set_profile(profile)
        _get(http, proxy, "/ping")  # on the same kept-alive connection
        counts.append(len(proxy.schedule().slices))

    assert proxy.connections == 1
    delays = [round(s.due - s.offered_at, 6) for s in proxy.schedule().slices]
    first, second, third = counts
    assert first >= 2 and second - first >= 2 and third - second >= 2  # up and down
    assert delays == [0.0] * first + [0.15] * (second - first) + [0.0] * (third - second)


def test_commune_presets() -> None:
    commune = LinkProfile.commune()
    assert (commune.up_bps, commune.down_bps, commune.latency_ms) == (256_000, 256_000, 150)
    stalling = LinkProfile.commune_with_stalls(seed=3)
    assert stalling.stall_rate > 0 and stalling.stall_range == (2.0, 5.0)
    assert stalling.seed == 3 and stalling.down_bps == 256_000
    with pytest.raises(ValueError):
        LinkProfile(down_bps=0)


# -- stalls ----------------------------------------------------------------------------


def test_manual_stall_freezes_the_link(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.stall(0.4)
    response = _get(http, proxy, "/ping")
    assert response.ok
    assert proxy.stalls == 1
    schedule = proxy.schedule()
    ((start, end),) = schedule.stalls
    assert end - start == pytest.approx(0.4)
    # Nothing crossed the frozen link: the handshake and every byte waited for its end.
    (conn,) = schedule.connections
    assert conn.upstream_at is not None and conn.upstream_at >= end
    assert schedule.slices and all(s.offered_at >= end for s in schedule.slices)


def test_random_stalls_happen(proxy: FaultProxy) -> None:
    proxy.set_profile(LinkProfile(stall_rate=20, stall_seconds=0.01, seed=1))
    _wait_for(lambda: proxy.stalls >= 2)


def test_same_seed_replays_the_same_schedule() -> None:
    profile = replace(LinkProfile.commune_with_stalls(seed=42), cut_rate=0.05)

    def schedule(seed: int) -> list[tuple[float | None, bool]]:
        dice = _Dice(seed)
        return [dice.roll(profile, 0.1) for _ in range(5000)]  # 500 s of link time

    first = schedule(42)
    assert first == schedule(42)
    assert first != schedule(43)
    stalls = [stall for stall, _ in first if stall is not None]
    assert 2 <= len(stalls) <= 30  # ~10 expected at 0.02/s
    assert all(2.0 <= s <= 5.0 for s in stalls)


# -- cuts ------------------------------------------------------------------------------


def test_cut_after_bytes_down(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.set_profile(LinkProfile(cut_after_bytes_down=10_000))
    with pytest.raises(LINK_ERRORS):
        _get(http, proxy, "/bytes/200000")
    assert proxy.cuts == 1
    assert proxy.bytes_down == 10_000


def test_cut_after_bytes_up(proxy: FaultProxy, http: requests.Session) -> None:
    proxy.set_profile(LinkProfile(cut_after_bytes_up=1000))
    with pytest.raises(requests.ConnectionError):
        http.post(proxy.url_for() + "/hash", data=os.urandom(65536), timeout=10)
    assert proxy.cuts == 1
    assert proxy.bytes_up == 1000


def test_cut_is_a_tcp_reset(proxy: FaultProxy) -> None:
    proxy.set_profile(LinkProfile(cut_after_bytes_down=100))
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
        sock.sendall(b"GET /bytes/100000 HTTP/1.1\r\nHost: upstream\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while sock.recv(65536):
                pass


def test_cut_all(proxy: FaultProxy) -> None:
    socks = [_raw_get(proxy) for _ in range(3)]
    assert proxy.cut_all() == 3
    assert proxy.cuts == 3
    for sock in socks:
        _assert_dropped(sock)


def test_random_cuts(proxy: FaultProxy) -> None:
    sock = _raw_get(proxy)
    proxy.set_profile(LinkProfile(cut_rate=50, seed=7))
    _assert_dropped(sock)
    assert proxy.cuts == 1


# -- offline, captive portal, failures -------------------------------------------------


def test_offline_refuses_new_and_cuts_open_connections(
    proxy: FaultProxy, http: requests.Session, upstream: Upstream
) -> None:
    open_sock = _raw_get(proxy)
    proxy.set_profile(LinkProfile(offline=True))
    assert proxy.cuts == 1
    _assert_dropped(open_sock)

    accepted = upstream.accepted
    with pytest.raises(requests.ConnectionError):
        _get(http, proxy, "/ping")
    assert proxy.refused == 1
    assert upstream.accepted == accepted

    proxy.set_profile(LinkProfile())  # the link comes back
    assert _get(http, proxy, "/ping").content == b"ok"


def test_captive_portal_answers_without_upstream(
    proxy: FaultProxy, http: requests.Session, upstream: Upstream
) -> None:
    accepted = upstream.accepted
    proxy.set_profile(LinkProfile(captive_portal=True))

    for response in (
        _get(http, proxy, "/api/sync"),
        http.post(proxy.url_for() + "/echo", data=os.urandom(100_000), timeout=10),
    ):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Đăng nhập" in response.text
    assert upstream.accepted == accepted
    assert proxy.bytes_up == proxy.bytes_down == 0


def test_client_reset_mid_transfer_does_not_hurt_the_proxy(
    proxy: FaultProxy, http: requests.Session, caplog: pytest.LogCaptureFixture
) -> None:
    proxy.set_profile(LinkProfile(down_bps=2_000_000))  # slow enough to reset mid-body
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    sock.sendall(b"GET /bytes/1000000 HTTP/1.1\r\nHost: upstream\r\n\r\n")
    assert sock.recv(10_000)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()

    assert _get(http, proxy, "/bytes/1000").content == payload(1000)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_upstream_down_looks_like_a_reset() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with FaultProxy("127.0.0.1", dead_port) as proxy, _session() as session:
        with pytest.raises(requests.ConnectionError):
            _get(session, proxy, "/ping")
        assert proxy.connections == 1


# -- teardown --------------------------------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_stop_leaves_no_listener_thread_or_socket(upstream: Upstream) -> None:
    fds_before = _open_fds()
    proxy = FaultProxy("127.0.0.1", upstream.server_address[1]).start()
    port = proxy.port
    with _session() as session:
        assert _get(session, proxy, "/ping").ok
    open_sock = _raw_get(proxy)  # still open when the proxy stops

    proxy.stop()
    proxy.stop()  # idempotent

    _assert_dropped(open_sock)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not [t for t in threading.enumerate() if t.name.startswith("FaultProxy")]
    # The upstream closes its side of the reset connections from its own threads.
    _wait_for(lambda: _open_fds() <= fds_before)
