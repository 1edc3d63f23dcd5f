"""What every entry point (the GUI, the CLI, the demo) does once the context is open:
settings an earlier version kept in a file move into the database, and a station
without any catalog gets the bundled sample one so a clerk can work before the first
sync."""

from __future__ import annotations

import logging
from pathlib import Path

from desktop_app.blob_migration import start_plaintext_encryption
from desktop_app.catalog import CatalogService
from desktop_app.clock import Clock
from desktop_app.context import AppContext, open_context
from desktop_app.domain.errors import DomainError
from desktop_app.intake.service import IntakeService
from desktop_app.paths import DataPaths, default_data_dir, has_station_data
from desktop_app.setup.legacy import import_legacy_extra

log = logging.getLogger(__name__)


def prepare(ctx: AppContext, *, sample_catalog: bool = True) -> None:
    # An older version's plaintext blob files: encrypted in the background.
    start_plaintext_encryption(ctx.blobs)
    import_legacy_extra(ctx)
    if sample_catalog:
        CatalogService(ctx).ensure_sample_catalog()
    try:  # an intake interrupted between its two steps: its slip is drawn now
        IntakeService(ctx).store_missing_slips()
    except Exception:  # never keeps the app from starting; the look-up draws it later
        log.exception("drawing the slips of interrupted intakes failed")


def open_station(data_dir: Path | None = None, db_url: str | None = None,
                 clock: Clock | None = None, *, sample_catalog: bool = True) -> AppContext:
    """``open_context`` (data directory, migrated database) then ``prepare``."""
    ctx = open_context(data_dir, db_url, clock)
    try:
        prepare(ctx, sample_catalog=sample_catalog)
    except BaseException:
        ctx.close()
        raise
    return ctx


def open_for_command(data_dir: Path | None = None, *, must_exist: bool = True
                     ) -> AppContext:
    """The station's database for a `motcua` command, by the GUI's rule
    (``paths.default_db_url``: MOTCUA_DB_URL, the provisioned PostgreSQL server, the SQLite
    file). With ``must_exist`` a data directory without either is refused (DomainError)
    instead of answering from an empty database made on the spot."""
    paths = DataPaths(data_dir or default_data_dir())
    if must_exist and not has_station_data(paths):
        raise DomainError(f"Không có dữ liệu của phần mềm trong thư mục “{paths.root}”. "
                          "Hãy chỉ đúng thư mục bằng --data-dir.",
                          f"no provisioned database and no SQLite file in {paths.root}")
    return open_station(paths.root, sample_catalog=False)
