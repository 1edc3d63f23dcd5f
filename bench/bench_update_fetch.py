"""How polite the update download is: the real gateway behind the fault proxy's
bandwidth-capped link, the station's `UpdateFetcher` at its defaults (25 % of the rate
each chunk measures) and with a provisioned cap, and a resume after a cut.

    .venv/bin/python bench/bench_update_fetch.py [--mb 1] [--link-kbps 2000]

Prints one table row per case: link rate, the download's average rate and its share of
the link, bytes on the wire beyond the file (headers, and after the cut what was
fetched twice). Not a test: times vary with the machine."""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("MOTCUA_NO_KEYRING", "1")  # never touch the machine's real keyring

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from desktop_app.clock import FixedClock
from desktop_app.startup import open_station
from desktop_app.station import StationService
from desktop_app.sync.client import GatewayClient
from desktop_app.sync.service import SyncService
from desktop_app.sync.update_fetch import Outcome, UpdateFetcher
from desktop_app.sync.update_settings import remember_update_settings
from desktop_app.sync.update_store import UpdateStore
from provincial_gateway import releases
from provincial_gateway.server import GatewayServer
from sync_contract import release_manifest as rm
from tests.conftest import RECEIVED_AT, TEST_STATION
from tests.support.fault_proxy import FaultProxy, LinkProfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=float, default=1.0, help="installer size (MB)")
    ap.add_argument("--link-kbps", type=int, default=2000, help="the proxy's down rate")
    ap.add_argument("--cap-kbps", type=int, default=200, help="update_max_kbps case")
    args = ap.parse_args()
    size = int(args.mb * 1_000_000)
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        gw = GatewayServer(tmp / "gw").start()
        try:
            token = gw.add_station(TEST_STATION.agency_code, 1, "Quầy 1")
            data = os.urandom(size)
            installer = tmp / "setup.deb"
            installer.write_bytes(data)
            sig = rm.sign(key, "9.0.0", "linux-deb", hashlib.sha256(data).hexdigest(), size)
            releases.publish(gw.state, installer, "9.0.0", signature=sig)
            host, port = gw.url.removeprefix("http://").split(":")
            print(f"installer {size} bytes, link {args.link_kbps} kbit/s down, chunk 64 KiB")
            print(f"{'case':<28}{'seconds':>9}{'avg kbit/s':>12}{'share':>8}{'wire-size':>11}")
            with FaultProxy(host, int(port)) as proxy:
                proxy.set_profile(LinkProfile(down_bps=args.link_kbps * 1000))
                for name, cap, cut in (("default (25 % measured)", 0, None),
                                       (f"update_max_kbps={args.cap_kbps}", args.cap_kbps,
                                        None),
                                       ("cut at 40 %, then resume", 0, int(size * 0.4))):
                    station = tmp / name.replace(" ", "_").replace("%", "")
                    ctx = open_station(station, db_url=f"sqlite:///{station / 'm.db'}",
                                       clock=FixedClock(RECEIVED_AT))
                    try:
                        StationService(ctx).save(replace(TEST_STATION, gateway_url=gw.url))
                        SyncService(ctx).set_token(token)
                        remember_update_settings(ctx, rm.public_key_text(key), cap or None)
                        proxy.set_profile(LinkProfile(down_bps=args.link_kbps * 1000,
                                                      cut_after_bytes_down=cut))
                        proxy.reset_counters()
                        started = time.monotonic()
                        fetched = 0
                        for _ in range(3):
                            result = UpdateFetcher(
                                ctx, GatewayClient(proxy.url_for(), token),
                                running_version="1.0.0", platform="linux-deb",
                                slice_s=3600).run()
                            fetched += result.fetched
                            if result.outcome == Outcome.READY:
                                break
                            proxy.set_profile(LinkProfile(down_bps=args.link_kbps * 1000))
                        took = time.monotonic() - started
                        wire = proxy.counters().bytes_down
                        assert result.outcome == Outcome.READY, result
                        assert UpdateStore(station).installer("9.0.0", "linux-deb").is_file()
                        rate = size * 8 / took / 1000
                        print(f"{name:<28}{took:>9.1f}{rate:>12.0f}"
                              f"{rate / args.link_kbps:>8.0%}{wire - size:>11}")
                    finally:
                        ctx.close()
        finally:
            gw.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
