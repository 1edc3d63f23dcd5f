"""What encrypting the blob store costs: throughput on a 200 MB file (an A0 map) and the
extra time of storing a typical 2 MB scan.

    .venv/bin/python bench/bench_blob_crypto.py [--big-mb 200] [--rounds 5]

Everything is the real code (`blob_crypto`, `BlobStore`). The files are random bytes
(incompressible, like JPEG data in a PDF) in a temp dir on the data disk's file system.
"plaintext copy" is what storing cost before encryption: copy while hashing, fsync,
rename. Peak Python memory (tracemalloc) shows that a 200 MB file is never held whole.
Prints one table (medians over the rounds)."""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MOTCUA_NO_KEYRING", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.blob_crypto import DecryptingReader, encrypt_stream
from desktop_app.blobs import BlobStore


def _random_file(path: Path, size: int) -> None:
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(left, 1 << 20)
            fh.write(os.urandom(n))
            left -= n


def _plaintext_copy(root: Path, source: Path) -> str:
    """The store's put_file before encryption: hash while copying, fsync, rename."""
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-bench-")
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    sha = digest.hexdigest()
    os.replace(tmp, root / sha)
    return sha


def _timed(fn: Callable[[], object], rounds: int) -> tuple[float, int]:
    """(median seconds, peak traced bytes)."""
    times = []
    peak = 0
    for _ in range(rounds):
        tracemalloc.start()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        peak = max(peak, tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(times), peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big-mb", type=int, default=200)
    ap.add_argument("--scan-mb", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    key = os.urandom(32)
    with tempfile.TemporaryDirectory(prefix="bench-blob-crypto-") as tmp:
        base = Path(tmp)
        big, scan = base / "a0.bin", base / "scan.pdf"
        big_size, scan_size = args.big_mb << 20, int(args.scan_mb * (1 << 20))
        _random_file(big, big_size)
        _random_file(scan, scan_size)
        enc = base / "a0.enc"
        plain_dir = base / "plain"
        plain_dir.mkdir()

        def encrypt_file() -> None:
            with big.open("rb") as src, enc.open("wb") as dst:
                encrypt_stream(key, src, dst)

        def decrypt_file() -> None:
            with enc.open("rb") as fh:
                reader = DecryptingReader(fh, key, close_raw=False)
                while reader.read(1 << 20):
                    pass

        def random_reads() -> None:  # the tus upload's pattern after a resume
            with enc.open("rb") as fh:
                reader = DecryptingReader(fh, key, close_raw=False)
                for i in range(200):
                    reader.seek((i * 7919 * 4096) % (big_size - 131072))
                    reader.read(131072)

        data = big.read_bytes()[: 64 << 20]

        def memory_only() -> None:
            out = io.BytesIO()
            encrypt_stream(key, io.BytesIO(data), out)

        rows = []
        for name, fn, size in (
            ("encrypt 200 MB file → file", encrypt_file, big_size),
            ("decrypt 200 MB file (stream)", decrypt_file, big_size),
            ("encrypt 64 MB in memory (CPU only)", memory_only, len(data)),
            ("plaintext copy 200 MB (before)", lambda: _plaintext_copy(plain_dir, big),
             big_size),
        ):
            s, peak = _timed(fn, args.rounds)
            rows.append((name, s, size / s / (1 << 20), peak))
        s, peak = _timed(random_reads, args.rounds)
        rows.append(("200 × 128 KiB random reads", s, 200 * 131072 / s / (1 << 20), peak))

        store = BlobStore(base / "blobs", None, key)
        scans = []
        for i in range(args.rounds * 4):
            p = base / f"scan{i}.pdf"
            _random_file(p, scan_size)
            scans.append(p)
        before = [_timed(lambda p=p: _plaintext_copy(plain_dir, p), 1)[0] for p in scans]
        after = [_timed(lambda p=p: store.put_file(p), 1)[0] for p in scans]

    print(f"{'what':<38} {'median':>9} {'MB/s':>8} {'peak mem':>9}")
    for name, s, rate, peak in rows:
        print(f"{name:<38} {s:>8.3f}s {rate:>8.0f} {peak / (1 << 20):>7.1f}MB")
    b, a = statistics.median(before), statistics.median(after)
    print(f"\nput_file of a {args.scan_mb:g} MB scan ({len(scans)} files): "
          f"plaintext {b * 1000:.1f} ms, encrypted {a * 1000:.1f} ms, "
          f"extra {(a - b) * 1000:+.1f} ms")


if __name__ == "__main__":
    main()
