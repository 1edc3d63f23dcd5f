"""Capture sources behind one interface: SANE (Linux), WIA and TWAIN (Windows), hot
folders written by large-format scanner software, and file import."""

from desktop_app.scanning.sources.base import (
    CaptureError,
    CaptureFailed,
    CaptureProgress,
    CaptureSource,
    CoverOpen,
    DeviceInfo,
    DiskFull,
    FeederEmpty,
    PaperJam,
    ProgressFn,
    ScannerBusy,
    ScannerDisappeared,
    ScannerUnavailable,
)
from desktop_app.scanning.sources.registry import (
    all_sources,
    available_sources,
    configured_hot_folders,
    open_source,
)

__all__ = [
    "CaptureError",
    "CaptureFailed",
    "CaptureProgress",
    "CaptureSource",
    "CoverOpen",
    "DeviceInfo",
    "DiskFull",
    "FeederEmpty",
    "PaperJam",
    "ProgressFn",
    "ScannerBusy",
    "ScannerDisappeared",
    "ScannerUnavailable",
    "all_sources",
    "available_sources",
    "configured_hot_folders",
    "open_source",
]
