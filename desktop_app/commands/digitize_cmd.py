"""`motcua digitize FILES... --out DIR`: headless digitization of scanned files.

Each input document (JPEG, PNG, TIFF, BMP or PDF; multi-page TIFF/PDF give one document
each) becomes one compliant PDF in DIR: deskewed, borders cropped, blank pages dropped,
colour/grey/bilevel chosen per page, at least 200 dpi, and under the per-file size limit
(split into numbered parts only when it cannot fit). One JSON line per output file goes to
stdout; a refused input gets a Vietnamese message on stderr and the others are still
processed. Exit status: 0 all done, 2 if any input was refused, 130 when interrupted."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    ColourMode,
    DigitizationRules,
    PdfMetadata,
)
from desktop_app.scanning.pipeline import DocumentResult, digitize_files
from desktop_app.scanning.profiles import BUILTIN_PROFILES, DEFAULT_PROFILE, builtin_profile

log = logging.getLogger(__name__)

MODES = {"auto": ColourMode.AUTO, "colour": ColourMode.COLOUR, "color": ColourMode.COLOUR,
         "grey": ColourMode.GREY, "gray": ColourMode.GREY, "bilevel": ColourMode.BILEVEL}


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    profiles = ", ".join(p.name for p in BUILTIN_PROFILES)
    p = subparsers.add_parser(
        "digitize", help="số hóa tệp ảnh quét/PDF thành PDF đạt chuẩn (không cần giao diện)",
        description="Số hóa các tệp ảnh quét (JPEG, PNG, TIFF, BMP) hoặc PDF: mỗi tài liệu "
        "thành một tệp PDF đạt chuẩn (chỉnh nghiêng, cắt viền, bỏ trang trắng, tối thiểu "
        "200 dpi, dưới giới hạn dung lượng). In một dòng JSON cho mỗi tệp PDF tạo ra.")
    p.add_argument("files", nargs="+", metavar="FILES", type=Path,
                   help="các tệp đầu vào (mỗi tệp là một tài liệu)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="thư mục ghi các tệp PDF")
    p.add_argument("--profile", default=DEFAULT_PROFILE, metavar="NAME",
                   help=f"hồ sơ quét (mặc định {DEFAULT_PROFILE}; có: {profiles})")
    p.add_argument("--mode", choices=sorted(MODES), default=None,
                   help="ép chế độ màu cho mọi trang (mặc định theo hồ sơ quét)")
    p.add_argument("--max-mb", type=float, default=None, metavar="MB",
                   help="giới hạn dung lượng mỗi tệp PDF (mặc định 10 MB)")
    p.add_argument("--dossier", default=None, metavar="MÃ", help="mã hồ sơ ghi vào PDF")
    p.add_argument("--component", default=None, metavar="TÊN",
                   help="thành phần hồ sơ ghi vào PDF")
    p.add_argument("--clerk", default=None, metavar="TÊN", help="cán bộ số hóa ghi vào PDF")
    p.add_argument("--ocr", action="store_true",
                   help="thêm lớp chữ nhận dạng tiếng Việt (cần Tesseract và gói tiếng Việt)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="số tiến trình xử lý song song (tài liệu khổ lớn vẫn làm lần lượt)")
    p.set_defaults(func=run)


def _rules(max_mb: float | None) -> DigitizationRules:
    rules = DigitizationRules()
    if max_mb is None:
        return rules
    if not 0.05 <= max_mb <= 2048:
        raise DomainError("Giới hạn dung lượng --max-mb phải từ 0,05 đến 2048 MB.",
                          f"--max-mb {max_mb} out of range")
    return DigitizationRules(max_file_bytes=round(max_mb * 1024 * 1024),
                             min_dpi=rules.min_dpi, min_jpeg_quality=rules.min_jpeg_quality,
                             max_pixels=rules.max_pixels, max_dpi=rules.max_dpi,
                             max_input_bytes=rules.max_input_bytes)


class _Metadata:
    """Picklable ``meta_for``: worker processes get it with each document."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.dossier = args.dossier
        self.component = args.component
        self.clerk = args.clerk
        self.created = datetime.now().astimezone().isoformat(timespec="seconds")

    def __call__(self, path: Path) -> PdfMetadata:
        title = self.component or path.stem
        return PdfMetadata(title=title, dossier_code=self.dossier, component=self.component,
                           clerk=self.clerk, created_at_iso=self.created)


def _json_lines(result: DocumentResult) -> list[dict[str, Any]]:
    lines = []
    for part in result.parts:
        modes = [m.value for m in part.modes]
        lines.append({
            "input": str(result.input),
            "output": str(part.path),
            "pages": part.pages,
            "dpi": part.dpi,
            "colour_mode": modes[0] if len(modes) == 1 else "mixed",
            "modes": modes,
            "bytes": part.bytes,
            "part": part.part,
            "parts": part.parts,
            "sha256": part.sha256,
            "actions": result.actions,
            "notes": result.notes,
        })
    return lines


def _utf8_safe_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding not in ("utf8", "utf_8") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def run(args: argparse.Namespace) -> int:
    _utf8_safe_output()
    try:
        profile = builtin_profile(args.profile)
        if args.ocr:
            profile = replace(profile, ocr=True)
        rules = _rules(args.max_mb)
        if args.jobs < 1:
            raise DomainError("Số tiến trình -j phải từ 1 trở lên.", f"--jobs {args.jobs}")
    except DomainError as exc:
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    cancel = CancelToken()
    try:
        results = digitize_files(args.files, args.out, profile, rules, meta_for=_Metadata(args),
                                 cancel=cancel, mode=MODES[args.mode] if args.mode else None,
                                 jobs=args.jobs)
    except (KeyboardInterrupt, CancelledError):
        cancel.cancel()
        print("Đã dừng theo yêu cầu; các tệp PDF đã ghi xong vẫn được giữ.", file=sys.stderr)
        return 130
    except DomainError as exc:  # e.g. the output directory cannot be created
        log.info("digitize failed: %s", exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return 2
    refused = 0
    for result in results:
        if not result.ok:
            refused += 1
            log.info("%s: %s", result.input, result.error_detail)
            print(f"Lỗi: {result.input.name}: {result.error_vi}", file=sys.stderr)
            continue
        for line in _json_lines(result):
            print(json.dumps(line, ensure_ascii=False), flush=True)
    if refused:
        print(f"{refused}/{len(results)} tệp không số hóa được.", file=sys.stderr)
    return 2 if refused else 0
