"""Digitization throughput, large-format cost, and output size against plain img2pdf.

    .venv/bin/python bench/bench_digitize.py              # 10 documents × 4 A4 pages
    .venv/bin/python bench/bench_digitize.py --docs 4     # quick run

Prints tables (no assertions). Targets (issue): A4 300 dpi >= 120 pages/min with a
2-process pool on a 2-core machine; A0 300 dpi colour page -> PDF <= 15 s and peak RSS
<= 1.5 GB for the whole process. Inputs are synthetic scanner output (JPEG q85 pages in a
PDF, as ADF scanners write): typed text with a slight skew and the lid's border, a page
with a red seal, a greyscale photo page, and a blank back side."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import img2pdf
from PIL import Image

from desktop_app.scanning.model import DigitizationRules
from desktop_app.scanning.pipeline import digitize_files
from desktop_app.scanning.profiles import builtin_profile
from tests.scanning import synthetic

ROOT = Path(__file__).resolve().parent.parent
DPI = 300


def a4_pages(seed: int) -> list[Image.Image]:
    return [
        synthetic.text_page(dpi=DPI, skew=1.2, border_px=40, seed=seed),
        synthetic.stamp_page(dpi=DPI, seed=seed),
        synthetic.photo_page(dpi=DPI, seed=seed),
        synthetic.blank_page(dpi=DPI, seed=seed),
    ]


def jpeg_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85, dpi=(DPI, DPI))
    return buf.getvalue()


def make_a4_inputs(root: Path, docs: int) -> tuple[list[Path], list[list[bytes]]]:
    """``docs`` scanner PDFs of 4 pages; the page JPEGs are reused across documents (the
    pipeline does not know), which keeps generation quick."""
    variants = [[jpeg_bytes(im) for im in a4_pages(seed)] for seed in range(2)]
    paths, blobs = [], []
    for i in range(docs):
        pages = variants[i % len(variants)]
        path = root / f"ho-so-{i + 1:02d}.pdf"
        path.write_bytes(img2pdf.convert(pages))
        paths.append(path)
        blobs.append(pages)
    return paths, blobs


def run_pipeline(inputs: list[Path], out: Path, jobs: int) -> tuple[float, int, int]:
    t = time.perf_counter()
    results = digitize_files(inputs, out, builtin_profile("a4-auto"), DigitizationRules(),
                             jobs=jobs)
    seconds = time.perf_counter() - t
    assert all(r.ok for r in results), [r.error_detail for r in results if not r.ok]
    size = sum(p.bytes for r in results for p in r.parts)
    pages = sum(r.pages + r.blank_dropped for r in results)
    return seconds, size, pages


def run_img2pdf(blobs: list[list[bytes]], out: Path) -> tuple[float, int]:
    t = time.perf_counter()
    size = 0
    for i, pages in enumerate(blobs):
        path = out / f"img2pdf-{i}.pdf"
        path.write_bytes(img2pdf.convert(pages))
        size += path.stat().st_size
    return time.perf_counter() - t, size


A0_SCRIPT = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    t0 = time.perf_counter()
    mode = sys.argv[3]
    if mode == "img2pdf":
        import img2pdf
        Path(sys.argv[2], "img2pdf.pdf").write_bytes(img2pdf.convert(sys.argv[1]))
        size, dpi, note = Path(sys.argv[2], "img2pdf.pdf").stat().st_size, 300, ""
    else:
        from desktop_app.scanning.model import DigitizationRules
        from desktop_app.scanning.pipeline import digitize_files
        from desktop_app.scanning.profiles import builtin_profile
        (r,) = digitize_files([Path(sys.argv[1])], Path(sys.argv[2]),
                              builtin_profile("a0-map"), DigitizationRules())
        assert r.ok, r.error_detail
        size, dpi = sum(p.bytes for p in r.parts), min(p.dpi for p in r.parts)
        note = " ".join(r.actions + r.notes)
    print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": size, "dpi": dpi,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "note": note}))
""")


def a0_run(src: Path, out: Path, mode: str) -> dict[str, float | str]:
    out.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", A0_SCRIPT, str(src), str(out), mode],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def make_a0_inputs(root: Path) -> dict[str, Path]:
    print("generating A0 inputs…", file=sys.stderr)
    im = synthetic.a0_colour_page(DPI)
    plain = root / "a0-map.jpg"
    im.save(plain, "JPEG", quality=85, dpi=(DPI, DPI))
    im.close()
    im = synthetic.a0_colour_page(DPI, border_px=40)
    framed = root / "a0-map-border.jpg"
    im.save(framed, "JPEG", quality=90, dpi=(DPI, DPI))
    tiff = root / "a0-map-border.tif"
    im.save(tiff, "TIFF", compression="tiff_lzw", dpi=(DPI, DPI))
    im.close()
    return {"JPEG q85, clean": plain, "JPEG q90, border": framed, "TIFF LZW, border": tiff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=10, help="A4 documents of 4 pages")
    parser.add_argument("--no-a0", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-digitize-") as tmp:
        root = Path(tmp)
        print("generating A4 inputs…", file=sys.stderr)
        inputs, blobs = make_a4_inputs(root, args.docs)
        seq = run_pipeline(inputs, root / "seq", jobs=1)
        par = run_pipeline(inputs, root / "par", jobs=2)
        ref = run_img2pdf(blobs, root)
        print()
        print(f"A4 {DPI} dpi, {seq[2]} pages in {args.docs} documents "
              "(text+skew+border, red seal, grey photo, blank)")
        print(f"{'run':>24} | {'seconds':>7} | {'pages/min':>9} | {'output MB':>9} | "
              f"{'size vs img2pdf':>15} | {'time vs img2pdf':>15}")
        print("-" * 96)
        for name, (seconds, size, pages) in (("pipeline, sequential", seq),
                                              ("pipeline, 2 processes", par)):
            print(f"{name:>24} | {seconds:>7.2f} | {pages / seconds * 60:>9.0f} | "
                  f"{size / 1e6:>9.2f} | {size / ref[1]:>14.2f}x | {seconds / ref[0]:>14.1f}x")
        print(f"{'plain img2pdf':>24} | {ref[0]:>7.2f} | {seq[2] / ref[0] * 60:>9.0f} | "
              f"{ref[1] / 1e6:>9.2f} | {1:>14.2f}x | {1:>14.1f}x")
        if not args.no_a0:
            a0 = make_a0_inputs(root)
            print()
            print(f"A0 {DPI} dpi colour map (9933×14043, fresh process each, a0-map profile, "
                  "10 MB limit)")
            print(f"{'input':>18} | {'tool':>8} | {'seconds':>7} | {'peak RSS':>8} | "
                  f"{'output MB':>9} | {'dpi':>4} | {'size ratio':>10} | {'time ratio':>10} | "
                  "what was done")
            print("-" * 130)
            for label, src in a0.items():
                ours = a0_run(src, root / "a0" / src.stem, "pipeline")
                ref_a0 = a0_run(src, root / "a0ref" / src.stem, "img2pdf")
                for tool, r in (("pipeline", ours), ("img2pdf", ref_a0)):
                    print(f"{label:>18} | {tool:>8} | {r['seconds']:>7.2f} | "
                          f"{r['rss_mb']:>5.0f} MB | {float(r['bytes']) / 1e6:>9.2f} | "
                          f"{r['dpi']:>4} | "
                          f"{float(r['bytes']) / float(ref_a0['bytes']):>9.2f}x | "
                          f"{float(r['seconds']) / float(ref_a0['seconds']):>9.1f}x | "
                          f"{r['note'] if tool == 'pipeline' else '(no limit, no checks)'}")
    print()
    print("targets: A4 >= 120 pages/min with 2 processes; A0 <= 15 s and <= 1.5 GB peak RSS")


if __name__ == "__main__":
    main()
