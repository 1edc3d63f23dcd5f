"""Settings an earlier version kept in files, moved into the database once."""

from __future__ import annotations

import json
import logging

from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.station import MAX_RETENTION_DAYS, MIN_RETENTION_DAYS, StationService

log = logging.getLogger(__name__)

# Retention period and printer were kept in this file before they had columns (0009).
EXTRA_FILE = "station-extra.json"


def import_legacy_extra(ctx: AppContext) -> bool:
    """Move ``station-extra.json`` (retention days, printer) into the station settings,
    once; the file is kept as ``station-extra.json.imported``. False when there is
    nothing to import (no file, or the station is not configured yet)."""
    path = ctx.paths.root / EXTRA_FILE
    if not path.is_file():
        return False
    stations = StationService(ctx)
    station = stations.get()
    if station is None:
        return False
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        days = raw.get("retention_days", station.retention_days)
        printer = raw.get("printer", station.printer)
        if not isinstance(days, int) or not isinstance(printer, str):
            raise ValueError("wrong types")
        stations.set_retention_and_printer(
            max(MIN_RETENTION_DAYS, min(days, MAX_RETENTION_DAYS)), printer)
    except (OSError, ValueError, DomainError) as exc:
        log.warning("%s not imported (%s); defaults kept", EXTRA_FILE, type(exc).__name__)
    path.replace(path.with_name(EXTRA_FILE + ".imported"))
    log.info("%s moved into the station settings", EXTRA_FILE)
    return True
