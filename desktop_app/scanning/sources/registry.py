"""Which capture sources this machine can use, and how the studio reopens one by key.

A studio key is ``"{source name}|{device id}"`` (e.g. ``"sane|test:0"``,
``"hotfolder|D:\\Scan\\A0"``), built from ``CaptureSource.name`` and ``DeviceInfo.id``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from desktop_app.scanning.sources.base import CaptureSource, ScannerUnavailable
from desktop_app.scanning.sources.hotfolder import HotFolder, HotFolderSource
from desktop_app.scanning.sources.sane import SaneSource
from desktop_app.scanning.sources.twain import TwainSource
from desktop_app.scanning.sources.wia import WiaSource

HOT_FOLDERS_ENV = "MOTCUA_HOT_FOLDERS"


def configured_hot_folders() -> list[Path]:
    """Hot folders from ``MOTCUA_HOT_FOLDERS`` (``os.pathsep``-separated), for stations
    provisioned through the environment; settings pass theirs explicitly."""
    raw = os.environ.get(HOT_FOLDERS_ENV, "")
    return [Path(p) for p in raw.split(os.pathsep) if p.strip()]


def all_sources(hot_folders: Sequence[Path] | None = None, *,
                show_driver_dialog: bool = False, **hot_folder_options: object
                ) -> list[CaptureSource]:
    folders = configured_hot_folders() if hot_folders is None else list(hot_folders)
    return [SaneSource(), WiaSource(show_driver_dialog=show_driver_dialog),
            TwainSource(show_driver_dialog=show_driver_dialog),
            HotFolderSource(folders, **hot_folder_options)]


def available_sources(hot_folders: Sequence[Path] | None = None) -> list[CaptureSource]:
    """Sources usable on this machine (cheap: no device is opened). ``hot_folders``
    defaults to ``MOTCUA_HOT_FOLDERS``."""
    return [s for s in all_sources(hot_folders) if s.available()]


def open_source(key: str, hot_folders: Sequence[Path] | None = None, *,
                station_id: str | None = None, station_label: str = "",
                show_driver_dialog: bool = False) -> CaptureSource:
    """The source bound to one device, from a key ``"{name}|{device id}"``; a bare name
    opens that kind's first device. Raises ``ScannerUnavailable`` for unknown keys.
    ``station_id``/``station_label`` name this counter's claims in a shared hot folder;
    ``show_driver_dialog`` lets a WIA or TWAIN driver show its own settings window."""
    name, _, device = key.partition("|")
    if name == HotFolder.name and device:
        return HotFolder(Path(device), station_id=station_id, station_label=station_label)
    for source in all_sources(hot_folders, show_driver_dialog=show_driver_dialog,
                              station_id=station_id, station_label=station_label):
        if source.name == name:
            if not source.available():
                break
            return source.for_device(device) if device else source
    raise ScannerUnavailable(
        "Nguồn quét đã chọn không còn dùng được trên máy này. Hãy chọn lại máy quét.",
        f"unknown or unavailable capture source {key!r}")
