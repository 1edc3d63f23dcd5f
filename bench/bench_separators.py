"""Separator-sheet batch splitting: accuracy and speed on a generated ADF batch.

    .venv/bin/python bench/bench_separators.py                  # 200 pages, 300 dpi A4
    .venv/bin/python bench/bench_separators.py --pages 60 --dpi 200

A batch of ~20 dossiers × several components is written to a temporary directory one
page at a time (separator sheets rasterised from the real PDF by pdftoppm, degraded like
a feeder scan: skew up to ±3°, shift, grey paper, light toner, blur, noise, JPEG q60,
some sheets upside down; a few ID-card photocopies with a citizen QR and receipts with a
dossier QR). It is then split with zbar alone and with zbar + the zxing-cpp fallback.
"realistic" is that degradation; "severe" adds heavy blur, strong noise and JPEG q40;
"extreme" also prints in faint grey, to show where the second decoder starts to matter.
Each split runs twice and the faster run is reported (the first one warms the file cache).
Prints a table; asserts nothing."""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop_app.scanning.batch_split import BatchSplit, split_batch
from desktop_app.scanning.separators import SeparatorSpec
from tests.scanning.batch_images import HARSH, Batch, Degradation, Layout, write_batch

COMPONENTS = [
    ("TK", "Tờ khai đăng ký khai sinh"),
    ("GCS", "Giấy chứng sinh"),
    ("GTTT", "Bản sao giấy tờ tùy thân của người yêu cầu"),
    ("BSKH", "Bản sao Giấy chứng nhận kết hôn"),
    ("GCN", "Bản sao Giấy chứng nhận quyền sử dụng đất"),
    ("UQ", "Văn bản ủy quyền"),
]
NAMES = ["Hoàng Thị Mai", "Nguyễn Văn An", "Lường Văn Ưng", "Đặng Thị Ánh", "Triệu Đức Thắng",
         "Nông Thị Hương", "Lục Văn Phúc", "Hà Thị Yến"]
REALISTIC = replace(HARSH, max_skew=3.0, upside_down=0.25, noise=10.0, blur=0.8,
                    jpeg_quality=60, colour=True)
SEVERE = replace(REALISTIC, noise=22.0, blur=2.2, jpeg_quality=40)
# A failing toner cartridge on a dusty feeder: faint grey print, heavy blur and noise.
EXTREME = replace(SEVERE, noise=30.0, blur=3.5, jpeg_quality=30, ink=(95, 140))
TIERS = {"realistic": REALISTIC, "severe": SEVERE, "extreme": EXTREME}


def plan(pages: int, dossiers: int, rng: random.Random) -> Layout:
    """Components for ``dossiers`` dossiers, content pages spread so the batch (separator
    sheets included) has about ``pages`` pages."""
    groups: list[tuple[str, int, str, str]] = []
    for d in range(dossiers):
        code = f"000.00.12.H12-231027-{1 + d % 3}{d + 1:03d}"
        name = rng.choice(NAMES)
        for index, (comp, comp_name) in enumerate(rng.sample(COMPONENTS, rng.randint(2, 4)), 1):
            groups.append((code, index, comp, f"{comp_name}|{name}"))
    content = max(len(groups), pages - len(groups))
    counts = [1] * len(groups)
    for _ in range(content - len(groups)):
        counts[rng.randrange(len(groups))] += 1
    layout = []
    for (code, index, comp, names), count in zip(groups, counts, strict=True):
        comp_name, applicant = names.split("|")
        kinds = ["text"] * count
        if comp == "GTTT":
            kinds[0] = "idcard"  # the ID-card photocopy with its citizen QR
        elif rng.random() < 0.08:
            kinds[-1] = "receipt"  # an old receipt copy with a dossier QR
        layout.append((SeparatorSpec(code, comp, index, applicant, comp_name), kinds))
    return layout


def score(batch: Batch, result: BatchSplit) -> tuple[int, int, int, int, int]:
    """(found by zbar, found in all, false positives, groups correct, groups expected)."""
    kinds = {n: p.kind for n, p in enumerate(batch.pages, start=1)}
    zbar = found = false = 0
    for number, detection in result.detections.items():
        if not detection.is_separator:
            continue
        if kinds[number] == "separator":
            found += 1
            zbar += detection.decoder == "zbar"
        else:
            false += 1
    got = [(g.dossier_code, g.component_code, g.component_index, g.page_numbers)
           for g in result.groups]
    correct = sum(1 for g in got if g in batch.expected)
    return zbar, found, false, correct, len(batch.expected)


def run(batch: Batch, use_zxing: bool, repeat: int = 2) -> tuple[BatchSplit, float]:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = split_batch(batch.pages, use_zxing=use_zxing,
                             known_dossiers={e[0] for e in batch.expected if e[0]})
        best = min(best, time.perf_counter() - started)
    return result, best


def bench(label: str, how: Degradation, args: argparse.Namespace, work: Path) -> list[str]:
    rng = random.Random(args.seed)
    layout = plan(args.pages, args.dossiers, rng)
    started = time.perf_counter()
    batch = write_batch(work / label, layout, dpi=args.dpi, seed=args.seed, how=how)
    print(f"{label}: generated {len(batch.pages)} pages at {args.dpi} dpi in "
          f"{time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows = []
    for use_zxing in (False, True):
        result, seconds = run(batch, use_zxing)
        zbar, found, false, correct, expected = score(batch, result)
        zx_pages = sum(d.zxing_tried for d in result.detections.values())
        zx_time = sum(d.seconds for d in result.detections.values())
        rows.append(
            f"| {label} | {'zbar+zxing' if use_zxing else 'zbar'} | {len(batch.pages)} | "
            f"{batch.separators} | {zbar} | {found if use_zxing else '–'} | {false} | "
            f"{correct}/{expected} | {seconds:.1f} | {len(batch.pages) / seconds:.1f} | "
            f"{zx_pages} | {1000 * zx_time / len(batch.pages):.0f} |")
    shutil.rmtree(work / label, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--dossiers", type=int, default=20)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--only", choices=tuple(TIERS))
    args = parser.parse_args()
    print("| degradation | decoders | pages | separators | detected by zbar only | "
          "by zbar+zxing | false positives | groups correct | seconds | pages/s | "
          "zxing passes | detect ms/page |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="bench-separators-") as tmp:
        for label, how in TIERS.items():
            if args.only and args.only != label:
                continue
            for row in bench(label, how, args, Path(tmp)):
                print(row, flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the whole run (generation included): {peak:.0f} MB")


if __name__ == "__main__":
    main()
