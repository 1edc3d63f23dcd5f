"""USB bundle throughput and memory: export (files streamed into the signed, age-sealed
bundle) and gateway import (decrypt, check each member while streaming, stage, adopt)
of a ~200 MB bundle, plus the refusal of a bomb-style bundle of the same size.

Peak memory is shown two ways: Python allocations (tracemalloc) and how far the
process's resident set rose above its level at the start of the phase (Linux: VmHWM after
resetting it), which also sees the age library's own buffers and the page cache is not
part of.

    python bench/bench_usb_bundle.py [--mb 200] [--files 40] [--db URL]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import struct
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from provincial_gateway import bundle_keys
from provincial_gateway.bundles import import_bundle_file
from provincial_gateway.config import GatewayConfig
from provincial_gateway.errors import WireError
from provincial_gateway.state import open_state
from sync_contract import bundle_codec as codec

AGENCY = "000.00.12.H12"
MB = 1_000_000


def _reset_rss_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_mib(field: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _run(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except WireError as exc:
        return f"{exc.status} {exc.code}"


def measured(run: Callable[[], Any]) -> tuple[float, float, float, Any]:
    """(seconds, Python peak MiB, RSS growth over the phase in MiB, result). The phase runs
    twice: timed without tracemalloc (it slows every allocation), then traced."""
    _reset_rss_peak()
    before = _status_mib("VmRSS")
    t0 = time.perf_counter()
    result = _run(run)
    seconds = time.perf_counter() - t0
    rss = _status_mib("VmHWM") - before
    tracemalloc.start()
    _run(run)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, rss, result


def make_files(folder: Path, total_mb: int, count: int) -> list[tuple[codec.Member, Path]]:
    each = total_mb * MB // count
    out = []
    for i in range(count):
        path = folder / f"scan-{i:03d}.pdf"
        digest = hashlib.sha256()
        with path.open("wb") as f:
            left = each
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                digest.update(chunk)
                f.write(chunk)
                left -= len(chunk)
        sha = digest.hexdigest()
        out.append((codec.Member(codec.file_member_name(sha), each, sha), path))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=200, help="bundle size in MB (200)")
    ap.add_argument("--files", type=int, default=40, help="number of scanned files (40)")
    ap.add_argument("--db", default=None, help="gateway database URL (default SQLite)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-usb-"))
    try:
        files = make_files(work, args.mb, args.files)
        state = open_state(GatewayConfig(data_dir=work / "gateway", db_url=args.db,
                                         admin_token="bench-admin-token",
                                         max_bundle_bytes=4 * args.mb * MB))
        from provincial_gateway import admin_ops

        admin_ops.add_station(state, AGENCY, 1, "Quầy 1")
        key = Ed25519PrivateKey.generate()
        bundle_keys.register_for(state, AGENCY, 1, codec.public_key_hex(key))
        recipient = bundle_keys.province_recipient(state.config)
        docs = codec.bytes_member(codec.DOSSIERS, b"[]")
        members = [docs] + [(m, lambda p=p: p.open("rb")) for m, p in files]
        bundle = work / "usb" / "bundle.mcb"
        bundle.parent.mkdir()

        def export() -> int:
            with bundle.open("wb") as out:
                codec.write_bundle(out, bundle_id="bench", agency_code=AGENCY,
                                   station_digit=1, created_at="", members=members,
                                   signing_key=key, recipient=recipient)
                out.flush()
                os.fsync(out.fileno())
            return bundle.stat().st_size

        rows = []
        secs, py, rss, size = measured(export)
        rows.append(("export (station)", size, secs, py, rss, "ok"))
        secs, py, rss, receipt = measured(lambda: import_bundle_file(state, bundle))
        rows.append(("import (gateway)", size, secs, py, rss,
                     f"{receipt.files} files" if hasattr(receipt, "files") else receipt))

        # Bomb style: one member declared as 1 KiB, followed by the whole payload.
        small = os.urandom(1024)
        sha = hashlib.sha256(small).hexdigest()
        manifest = codec.Manifest("bomb", AGENCY, 1, "", codec.public_key_hex(key),
                                  (codec.Member(codec.file_member_name(sha), 1024, sha),))
        raw = manifest.encode()
        bomb = work / "usb" / "bomb.mcb"

        def payload() -> Any:
            yield codec.MAGIC + struct.pack(">I", len(raw)) + raw + codec.sign_manifest(raw, key)
            for _, path in files:
                with path.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        yield chunk

        with bomb.open("wb") as out:
            codec.seal(payload(), recipient, out)
        secs, py, rss, result = measured(lambda: import_bundle_file(state, bomb))
        rows.append(("bomb refused (1 KiB declared)", bomb.stat().st_size, secs, py, rss,
                     result))
        state.close()

        print(f"\nUSB bundle, {args.files} files, {args.mb} MB of members "
              f"(database: {'SQLite' if not args.db else args.db.split(':')[0]})\n")
        print(f"| {'phase':<30} | {'bundle MB':>9} | {'s':>6} | {'MB/s':>7} | "
              f"{'py peak MiB':>11} | {'RSS +MiB':>12} | result")
        print(f"|{'-' * 32}|{'-' * 11}|{'-' * 8}|{'-' * 9}|{'-' * 13}|{'-' * 14}|-------")
        for name, size, secs, py, rss, result in rows:
            print(f"| {name:<30} | {size / MB:>9.1f} | {secs:>6.2f} | "
                  f"{size / MB / secs:>7.0f} | {py:>11.2f} | {rss:>12.1f} | {result}")
        print("\nEach phase runs twice: timed, then under tracemalloc (the import's second "
              "run finds every file already stored).")
        print("MB/s of the bomb row: how fast the bundle is refused (only the first "
              "member's worth is decrypted).")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
