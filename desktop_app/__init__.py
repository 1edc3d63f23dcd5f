"""Một Cửa Offline: the application core (no widgets)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("motcua-offline")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
