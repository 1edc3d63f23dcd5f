"""The rules of the settings a province publishes (scan profiles, the upload limit, fee
lines, signer blocks), in one place for both sides.

The station checks each part with these functions wherever a person gives it (the
settings dialog, a provisioning file, a catalog's fee lines, F9's signer blocks) and when
the province's settings document arrives; the gateway checks the same document with the
same functions before it publishes it. Pure functions over plain values; every message
is Vietnamese, for the person who wrote the value."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

# --- scan profiles ----------------------------------------------------------------------------

# The legal floor for digitized documents (DOMAIN.md), and the legibility floor of JPEG.
MIN_DPI = 200
MAX_DPI = 1200
MIN_JPEG_QUALITY = 50
COLOUR_MODES = ("auto", "colour", "grey", "bilevel")
PAGE_SIZES = ("A5", "A4", "A3", "A2", "A1", "A0")
PAPER_SOURCES = ("auto", "flatbed", "feeder")
PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
NAME_RULE_VI = "chữ thường không dấu, số, - hoặc _ (tối đa 40 ký tự), ví dụ “a0-ban-do”"
FLAGS = ("duplex", "drop_blank", "deskew", "crop_borders", "ocr", "locked")
PROFILE_KEYS = ("name", "label_vi", "dpi", "mode", "duplex", "page_size", "drop_blank",
                "deskew", "crop_borders", "jpeg_quality", "locked", "paper", "ocr")

# --- upload limit, fees, signers --------------------------------------------------------------

MIB = 1024 * 1024
MIN_UPLOAD_BYTES = MIB
MAX_UPLOAD_BYTES = 512 * MIB  # wire.MAX_FILE_BYTES: what the gateway takes in one file
FEE_BASES = ("case", "copy", "page")
FEE_NUMBERS = ("amount", "later_from_page", "later_amount", "cap_per_copy")
FEE_KEYS = ("code", "name", "kind", "basis", "note", *FEE_NUMBERS)
SIGNER_FORMS = ("04", "05")  # documents signed in the agency's name (Circular 03/2025)
SIGNER_KEYS = ("authority", "delegation", "title", "name")
SIGNER_MAX_LINE = 120


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def profile_problems(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """Every rule a scan profile breaks as (field, Vietnamese message), one per field,
    for values as a person gave them; fields absent take the profile's defaults."""
    problems: list[tuple[str, str]] = []
    name, label = values.get("name"), values.get("label_vi")
    if not isinstance(name, str) or not PROFILE_NAME.match(name):
        problems.append(("name", f"tên hồ sơ quét gồm {NAME_RULE_VI}"))
    if not isinstance(label, str) or not nfc(label).strip():
        problems.append(("label_vi", "thiếu tên hiển thị tiếng Việt của hồ sơ quét"))
    for key in FLAGS:
        if key in values and not isinstance(values[key], bool):
            problems.append((key, "phải là true hoặc false"))
    for key, low, high in (("dpi", MIN_DPI, MAX_DPI), ("jpeg_quality", MIN_JPEG_QUALITY, 100)):
        v = values.get(key)
        if key in values and (isinstance(v, bool) or not isinstance(v, int)
                              or not low <= v <= high):
            problems.append((key, f"phải là số nguyên từ {low} đến {high}"))
    for key, what, allowed in (("mode", "chế độ màu", COLOUR_MODES),
                               ("page_size", "khổ giấy", PAGE_SIZES),
                               ("paper", "nguồn giấy", PAPER_SOURCES)):
        if key in values and values[key] not in allowed:
            problems.append((key, f"{what} phải là một trong: {', '.join(allowed)}"))
    return problems


def fee_line_problems(line: Mapping[str, Any]) -> list[str]:
    """What is wrong with one line of a procedure's fee schedule (a catalog's, or the
    province's schedule): a name, a known basis, whole non-negative numbers."""
    code = line.get("code", "")
    problems: list[str] = []
    if not isinstance(line.get("name"), str) or not nfc(line["name"]).strip():
        problems.append(f"khoản phí {code!r} thiếu tên (name)")
    basis = line.get("basis", "case") or "case"
    if basis not in FEE_BASES:
        problems.append(f"khoản phí {code!r}: cách tính (basis) phải là một trong: "
                        f"{', '.join(FEE_BASES)}")
    for key in FEE_NUMBERS:
        v = line.get(key, 0)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            problems.append(f"khoản phí {code!r}: {key} phải là số nguyên không âm")
    for key in ("code", "kind", "note"):
        if key in line and not isinstance(line[key], str):
            problems.append(f"khoản phí {code!r}: {key} phải là chuỗi ký tự")
    return problems


def signer_line(text: str, upper: bool) -> str:
    """One line of a signature block as printed: trimmed, spaces collapsed, NFC."""
    value = " ".join(nfc(text).split())
    return value.upper() if upper else value


def signer_problems(block: Mapping[str, Any], require_name: bool = True) -> list[str]:
    """What keeps a signature block from being printed. The province may leave the name
    out (it cannot know each commune's signer); a commune's own block needs it."""
    problems: list[str] = []
    for key, what in (("authority", "Dòng thẩm quyền"), ("delegation", "Dòng ký thay"),
                      ("title", "Chức vụ"), ("name", "Họ tên người ký")):
        value = block.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{what} phải là chuỗi ký tự.")
        elif len(signer_line(value, False)) > SIGNER_MAX_LINE:
            problems.append(f"{what} dài quá {SIGNER_MAX_LINE} ký tự.")
    if problems:
        return problems
    if not signer_line(block.get("title", ""), True):
        problems.append("Vui lòng ghi chức vụ người ký (ví dụ CHỦ TỊCH).")
    if require_name and not signer_line(block.get("name", ""), False):
        problems.append("Vui lòng ghi họ tên người ký.")
    return problems


def upload_limit_problems(value: object) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int) \
            or not MIN_UPLOAD_BYTES <= value <= MAX_UPLOAD_BYTES:
        return [f"giới hạn dung lượng mỗi tệp (byte) phải là số nguyên từ {MIN_UPLOAD_BYTES} "
                f"(1 MB) đến {MAX_UPLOAD_BYTES} (512 MB)"]
    return []


# --- the whole document ----------------------------------------------------------------------

DOCUMENT_KEYS = ("version", "published_at", "upload_limit_bytes", "scan_profiles",
                 "fee_schedules", "signers")


def document_problems(doc: object) -> list[str]:
    """Every problem of a province settings document, each prefixed by where it is
    ("scan_profiles[2].dpi: …"). Parts left out (absent or null) are the commune's."""
    if not isinstance(doc, Mapping):
        return ["tài liệu cài đặt phải là một đối tượng JSON"]
    out: list[str] = []
    for key in ("version", "published_at"):
        value = doc.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > 40:
            out.append(f"{key}: bắt buộc, chuỗi ký tự tối đa 40 ký tự")
    for key in doc:
        if key not in DOCUMENT_KEYS:
            out.append(f"{key}: trường không được hỗ trợ (chỉ có {', '.join(DOCUMENT_KEYS)})")
    if doc.get("upload_limit_bytes") is not None:
        out += [f"upload_limit_bytes: {p}" for p in
                upload_limit_problems(doc["upload_limit_bytes"])]
    out += _profiles_problems(doc.get("scan_profiles"))
    out += _fees_problems(doc.get("fee_schedules"))
    out += _signers_problems(doc.get("signers"))
    return out


def _profiles_problems(profiles: object) -> list[str]:
    if profiles is None:
        return []
    if not isinstance(profiles, list):
        return ["scan_profiles: phải là danh sách các hồ sơ quét"]
    out: list[str] = []
    names: set[str] = set()
    for i, item in enumerate(profiles, 1):
        where = f"scan_profiles[{i}]"
        if not isinstance(item, Mapping):
            out.append(f"{where}: mỗi hồ sơ quét phải là một đối tượng {{name, label_vi, …}}")
            continue
        out += [f"{where}.{k}: trường không được hỗ trợ" for k in item if k not in PROFILE_KEYS]
        out += [f"{where}.{field}: {message}" for field, message in profile_problems(item)]
        name = item.get("name")
        if isinstance(name, str) and name in names:
            out.append(f"{where}.name: trùng tên hồ sơ quét “{name}”")
        names.add(str(name))
    return out


def _fees_problems(schedules: object) -> list[str]:
    if schedules is None:
        return []
    if not isinstance(schedules, Mapping):
        return ["fee_schedules: phải là đối tượng {mã thủ tục: [các khoản phí]}"]
    out: list[str] = []
    for code, lines in schedules.items():
        where = f"fee_schedules[{code}]"
        if not isinstance(code, str) or not code.strip():
            out.append("fee_schedules: mã thủ tục không được để trống")
        if not isinstance(lines, list):
            out.append(f"{where}: phải là danh sách các khoản phí")
            continue
        for i, line in enumerate(lines, 1):
            if not isinstance(line, Mapping):
                out.append(f"{where}[{i}]: mỗi khoản phí phải là một đối tượng {{name, amount, …}}")
                continue
            out += [f"{where}[{i}].{k}: trường không được hỗ trợ" for k in line
                    if k not in FEE_KEYS]
            out += [f"{where}[{i}]: {p}" for p in fee_line_problems(line)]
    return out


def _signers_problems(signers: object) -> list[str]:
    if signers is None:
        return []
    if not isinstance(signers, Mapping):
        return [f"signers: phải là đối tượng theo mẫu ({', '.join(SIGNER_FORMS)})"]
    out: list[str] = []
    for form, block in signers.items():
        where = f"signers[{form}]"
        if form not in SIGNER_FORMS:
            out.append(f"{where}: chỉ có mẫu {', '.join(SIGNER_FORMS)}")
            continue
        if not isinstance(block, Mapping):
            out.append(f"{where}: phải là đối tượng {{authority, delegation, title, name}}")
            continue
        out += [f"{where}.{k}: trường không được hỗ trợ" for k in block if k not in SIGNER_KEYS]
        out += [f"{where}: {p}" for p in signer_problems(block, require_name=False)]
    return out
