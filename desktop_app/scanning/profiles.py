"""Built-in scan profiles. A technician can add or lock profiles in the station settings;
these are the defaults every station starts with."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.scanning.model import (
    MAX_DPI,
    MIN_DPI,
    MIN_JPEG_QUALITY,
    PAGE_SIZES_MM,
    PAPER_SOURCES,
    ColourMode,
    ScanProfile,
)

BUILTIN_PROFILES: tuple[ScanProfile, ...] = (
    ScanProfile("a4-auto", "Giấy tờ A4 (tự động màu/xám/đen trắng), 300 dpi", dpi=300,
                mode=ColourMode.AUTO, page_size="A4"),
    ScanProfile("a4-duplex", "Giấy tờ A4 hai mặt (ADF), 300 dpi", dpi=300,
                mode=ColourMode.AUTO, duplex=True, page_size="A4"),
    ScanProfile("a4-colour", "Giấy tờ A4 màu, 300 dpi", dpi=300, mode=ColourMode.COLOUR,
                page_size="A4"),
    ScanProfile("id-card", "Thẻ căn cước, giấy tờ nhỏ, màu 300 dpi", dpi=300,
                mode=ColourMode.COLOUR, page_size="A5", drop_blank=False),
    ScanProfile("a3-map", "Bản vẽ, sơ đồ A3 màu, 300 dpi", dpi=300, mode=ColourMode.COLOUR,
                page_size="A3", drop_blank=False),
    ScanProfile("a0-map", "Bản đồ khổ lớn A0 màu, 300 dpi", dpi=300, mode=ColourMode.COLOUR,
                page_size="A0", drop_blank=False, deskew=False),
    ScanProfile("text-bw", "Văn bản chữ đen trắng, 300 dpi", dpi=300,
                mode=ColourMode.BILEVEL, page_size="A4"),
)

DEFAULT_PROFILE = "a4-auto"


class UnknownProfile(DomainError):
    pass


def builtin_profile(name: str) -> ScanProfile:
    for p in BUILTIN_PROFILES:
        if p.name == name:
            return p
    known = ", ".join(p.name for p in BUILTIN_PROFILES)
    raise UnknownProfile(f"Không có hồ sơ quét “{name}”. Các hồ sơ quét có sẵn: {known}.",
                         f"unknown scan profile {name!r}")


# --- the rules of a profile -------------------------------------------------------------------

PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,39}$")
NAME_RULE_VI = ("chữ thường không dấu, số, - hoặc _ (tối đa 40 ký tự), ví dụ “a0-ban-do”")
FLAGS = ("duplex", "drop_blank", "deskew", "crop_borders", "ocr", "locked")


@dataclass(frozen=True)
class ProfileProblem:
    field: str  # a ScanProfile field
    message_vi: str


class InvalidProfile(DomainError):
    def __init__(self, problems: Sequence[ProfileProblem]) -> None:
        super().__init__("Hồ sơ quét chưa hợp lệ: " + "; ".join(p.message_vi for p in problems)
                         + ".", "invalid scan profile: " + ", ".join(p.field for p in problems))
        self.problems = tuple(problems)


def profile_problems(values: Mapping[str, object]) -> list[ProfileProblem]:
    """Every rule a scan profile breaks, one problem per field, for values as a person
    gave them (the settings dialog, a provisioning file); fields absent take
    ScanProfile's defaults. The one validator of the UI, provisioning and
    ``DigitizationService.save_profile``."""
    problems: list[ProfileProblem] = []

    def bad(field: str, message: str) -> None:
        problems.append(ProfileProblem(field, message))

    name, label = values.get("name"), values.get("label_vi")
    if not isinstance(name, str) or not PROFILE_NAME.match(name):
        bad("name", f"tên hồ sơ quét gồm {NAME_RULE_VI}")
    if not isinstance(label, str) or not nfc(label):
        bad("label_vi", "thiếu tên hiển thị tiếng Việt của hồ sơ quét")
    for key in FLAGS:
        if key in values and not isinstance(values[key], bool):
            bad(key, "phải là true hoặc false")
    for key, low, high in (("dpi", MIN_DPI, MAX_DPI), ("jpeg_quality", MIN_JPEG_QUALITY, 100)):
        v = values.get(key)
        if key in values and (isinstance(v, bool) or not isinstance(v, int)
                              or not low <= v <= high):
            bad(key, f"phải là số nguyên từ {low} đến {high}")
    choices: tuple[tuple[str, str, Sequence[str]], ...] = (
        ("mode", "chế độ màu", [m.value for m in ColourMode]),
        ("page_size", "khổ giấy", list(PAGE_SIZES_MM)),
        ("paper", "nguồn giấy", PAPER_SOURCES))
    for key, what, allowed in choices:
        if key in values and values[key] not in allowed:
            bad(key, f"{what} phải là một trong: {', '.join(allowed)}")
    return problems


def check_profile(profile: ScanProfile) -> ScanProfile:
    """``profile`` with its label in NFC, or ``InvalidProfile`` listing every problem."""
    values = {**asdict(profile), "mode": profile.mode.value}
    problems = profile_problems(values)
    if problems:
        raise InvalidProfile(problems)
    return replace(profile, label_vi=nfc(profile.label_vi))
