"""Built-in scan profiles. A technician can add or lock profiles in the station settings;
these are the defaults every station starts with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace

from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import nfc
from desktop_app.scanning.model import ColourMode, ScanProfile
from sync_contract import settings_rules

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

# The rules themselves are the province settings' rules (sync_contract.settings_rules), so
# the gateway publishing a profile and this station saving one agree by construction.
PROFILE_NAME = settings_rules.PROFILE_NAME
NAME_RULE_VI = settings_rules.NAME_RULE_VI
FLAGS = settings_rules.FLAGS


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
    gave them (the settings dialog, a provisioning file, the province's settings); fields
    absent take ScanProfile's defaults. The one validator of the UI, provisioning,
    ``DigitizationService.save_profile`` and the province settings (both sides)."""
    return [ProfileProblem(f, m) for f, m in settings_rules.profile_problems(values)]


def check_profile(profile: ScanProfile) -> ScanProfile:
    """``profile`` with its label in NFC, or ``InvalidProfile`` listing every problem."""
    values = {**asdict(profile), "mode": profile.mode.value}
    problems = profile_problems(values)
    if problems:
        raise InvalidProfile(problems)
    return replace(profile, label_vi=nfc(profile.label_vi))
