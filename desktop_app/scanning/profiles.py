"""Built-in scan profiles. A technician can add or lock profiles in the station settings;
these are the defaults every station starts with."""

from __future__ import annotations

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.model import ColourMode, ScanProfile

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
