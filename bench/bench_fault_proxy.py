"""How closely the fault proxy's link matches its profile, measured from the client.

    .venv/bin/python bench/bench_fault_proxy.py             # 5 rounds per row
    .venv/bin/python bench/bench_fault_proxy.py --rounds 20

The tests (tests/test_fault_proxy.py) check the proxy's schedule: slices never early, never
faster than the cap, never idle while data waits. What a client then sees also depends on
how busy the machine is (timer wake-ups, thread switches, the upstream server), so the
wall-clock figures live here: each row is one transfer through a fresh proxy to a small
threaded HTTP server on loopback, timed around the `requests` call, against what the ideal
link would take. Prints one table (no assertions); "bound" is the tolerance the tests used
to assert before they moved to the schedule, for comparison."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.fault_proxy import FaultProxy, LinkProfile
from tests.support.upstream import serve_upstream


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


@dataclass
class Row:
    name: str
    bound: str  # what the tests used to assert
    samples: list[tuple[float, float]]  # (measured s, ideal s)

    def cells(self) -> list[str]:
        measured = [m for m, _ in self.samples]
        ideal = statistics.median(i for _, i in self.samples)
        med = statistics.median(measured)
        return [self.name, f"{ideal:.3f}", f"{med:.3f}", f"{min(measured):.3f}",
                f"{max(measured):.3f}", f"{(med / ideal - 1) * 100:+.1f} %" if ideal else "",
                self.bound]


def latency(port: int) -> dict[str, tuple[float, float]]:
    """100 ms one way: a new connection costs 2 RTT, a kept-alive request 1 RTT, and 1 MB
    about one RTT too (many reads in flight, not one round trip each)."""
    with FaultProxy("127.0.0.1", port) as proxy, _session() as session:
        proxy.set_profile(LinkProfile(latency_ms=100))
        url = proxy.url_for()
        first = _timed(lambda: session.get(url + "/ping", timeout=30))
        second = _timed(lambda: session.get(url + "/ping", timeout=30))
        big = _timed(lambda: session.get(url + "/bytes/1048576", timeout=30))
    return {"new": (first, 0.4), "reused": (second, 0.2), "1MB": (big, 0.2)}


def bandwidth_down(port: int) -> tuple[float, float]:
    with FaultProxy("127.0.0.1", port) as proxy, _session() as session:
        proxy.set_profile(LinkProfile(down_bps=256_000))
        seconds = _timed(lambda: session.get(proxy.url_for() + "/bytes/65536", timeout=30))
        return seconds, proxy.bytes_down * 8 / 256_000


def bandwidth_up(port: int) -> tuple[float, float]:
    body = os.urandom(65536)
    with FaultProxy("127.0.0.1", port) as proxy, _session() as session:
        proxy.set_profile(LinkProfile(up_bps=256_000))
        seconds = _timed(lambda: session.post(proxy.url_for() + "/hash", data=body, timeout=30))
        return seconds, proxy.bytes_up * 8 / 256_000


def bandwidth_shared(port: int) -> tuple[float, float]:
    with FaultProxy("127.0.0.1", port) as proxy:
        proxy.set_profile(LinkProfile(down_bps=512_000))

        def fetch(_: int) -> bytes:
            with _session() as session:
                return session.get(proxy.url_for() + "/bytes/32768", timeout=30).content

        with ThreadPoolExecutor(2) as pool:
            seconds = _timed(lambda: list(pool.map(fetch, range(2))))
        return seconds, proxy.bytes_down * 8 / 512_000


def profile_switch(port: int) -> dict[str, tuple[float, float]]:
    with FaultProxy("127.0.0.1", port) as proxy, _session() as session:
        url = proxy.url_for() + "/ping"
        fast = _timed(lambda: session.get(url, timeout=30))
        proxy.set_profile(LinkProfile(latency_ms=150))
        slow = _timed(lambda: session.get(url, timeout=30))
        proxy.set_profile(LinkProfile())
        fast_again = _timed(lambda: session.get(url, timeout=30))
    return {"fast": (fast, 0.0), "slow": (slow, 0.3), "fast again": (fast_again, 0.0)}


def stall(port: int) -> tuple[float, float]:
    with FaultProxy("127.0.0.1", port) as proxy, _session() as session:
        proxy.stall(0.4)
        return _timed(lambda: session.get(proxy.url_for() + "/ping", timeout=30)), 0.4


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="transfers per row (5)")
    args = p.parse_args(argv)

    rows = {name: Row(name, bound, []) for name, bound in (
        ("latency 100 ms: new connection", "0.39-0.55 s"),
        ("latency 100 ms: kept-alive", "0.195-0.30 s"),
        ("latency 100 ms: 1 MB kept-alive", "< 0.45 s"),
        ("down 256 kbit/s: 64 kB", "±15 %"),
        ("up 256 kbit/s: 64 kB", "±15 %"),
        ("shared 512 kbit/s: 2 × 32 kB", "±15 %"),
        ("set_profile: before", "< 0.1 s"),
        ("set_profile: 150 ms", ">= 0.29 s"),
        ("set_profile: after", "< 0.1 s"),
        ("stall 0.4 s", ">= 0.35 s"),
    )}
    with serve_upstream() as server:
        port = server.server_address[1]
        for i in range(args.rounds):
            print(f"round {i + 1}/{args.rounds} …", file=sys.stderr, flush=True)
            lat = latency(port)
            rows["latency 100 ms: new connection"].samples.append(lat["new"])
            rows["latency 100 ms: kept-alive"].samples.append(lat["reused"])
            rows["latency 100 ms: 1 MB kept-alive"].samples.append(lat["1MB"])
            rows["down 256 kbit/s: 64 kB"].samples.append(bandwidth_down(port))
            rows["up 256 kbit/s: 64 kB"].samples.append(bandwidth_up(port))
            rows["shared 512 kbit/s: 2 × 32 kB"].samples.append(bandwidth_shared(port))
            switch = profile_switch(port)
            rows["set_profile: before"].samples.append(switch["fast"])
            rows["set_profile: 150 ms"].samples.append(switch["slow"])
            rows["set_profile: after"].samples.append(switch["fast again"])
            rows["stall 0.4 s"].samples.append(stall(port))

    head = ["what", "ideal s", "median s", "min s", "max s", "median vs ideal", "bound"]
    table = [head] + [row.cells() for row in rows.values()]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print(f"Fault proxy against its profile — {args.rounds} transfers per row, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print()
    for n, r in enumerate(table):
        print(" | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                         enumerate(zip(r, widths, strict=True))))
        if n == 0:
            print("-+-".join("-" * w for w in widths))
    print()
    print("ideal: 2 RTT for a new connection (handshake + request), 1 RTT on a kept-alive "
          "one; bytes on the wire × 8 / cap for the bandwidth rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
