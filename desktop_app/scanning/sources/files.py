"""File import: the clerk drops or picks images and PDFs (a citizen's photo from Zalo, a
PDF from the land office, a scan saved elsewhere).

Each file is checked on its own — magic bytes decide the format, the extension is only a
hint — and copied into the work directory atomically. One bad file is reported with a
message that names it; the others still come in."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.scanning.loading import SUFFIX_FORMATS, InputRefused, check_input
from desktop_app.scanning.model import (
    CancelToken,
    CapturedFile,
    DigitizationRules,
)
from desktop_app.scanning.sources.base import (
    DISK_RESERVE_BYTES,
    DiskFull,
    copy_atomically,
    ensure_room,
    image_dpi,
    unique_path,
)

log = logging.getLogger(__name__)

IMPORT_SOURCE = "import"
FORMAT_SUFFIX = {"jpeg": ".jpg", "png": ".png", "tiff": ".tif", "bmp": ".bmp", "pdf": ".pdf"}


@dataclass(frozen=True)
class ImportFailure:
    """One file that was not imported, with the reason for the clerk and for the log."""

    path: Path
    message_vi: str
    detail: str


@dataclass
class ImportReport:
    files: list[CapturedFile] = field(default_factory=list)
    errors: list[ImportFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def expand(paths: Sequence[Path]) -> list[Path]:
    """Dropped folders contribute their supported files (one level, by name); each path
    is imported once even if dropped twice."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in paths:
        p = Path(p)
        items = sorted((c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")
                        and c.suffix.lower() in SUFFIX_FORMATS), key=lambda c: c.name) \
            if p.is_dir() else [p]
        for item in items:
            key = item.resolve()
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def _target_name(path: Path, fmt: str) -> str:
    stem = unicodedata.normalize("NFC", path.stem)
    stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", stem).strip(" .") or "tep"
    return f"import-{stem[:80]}{FORMAT_SUFFIX[fmt]}"


def import_one(path: Path, dest_dir: Path, rules: DigitizationRules,
               cancel: CancelToken | None = None,
               reserve_bytes: int = DISK_RESERVE_BYTES) -> CapturedFile:
    """Check and copy one file; raises ``InputRefused``/``DiskFull``/``CancelledError``."""
    path = Path(path)
    fmt = check_input(path, rules)
    size = path.stat().st_size
    dest_dir.mkdir(parents=True, exist_ok=True)
    ensure_room(dest_dir, size, 0, reserve_bytes)
    target = unique_path(dest_dir, _target_name(path, fmt))
    check: Callable[[], None] | None = cancel.raise_if_cancelled if cancel else None
    try:
        with path.open("rb") as f:
            copy_atomically(f, target, on_chunk=check)
    except OSError as exc:
        raise InputRefused(f"Không chép được tệp {path.name}: {exc.strerror or exc}.",
                           f"copy {path} -> {target}: {exc!r}") from exc
    return CapturedFile(path=target, source=IMPORT_SOURCE, dpi=image_dpi(target),
                        original_name=unicodedata.normalize("NFC", path.name))


def iter_import(paths: Sequence[Path], dest_dir: Path, rules: DigitizationRules,
                cancel: CancelToken | None = None,
                reserve_bytes: int = DISK_RESERVE_BYTES
                ) -> Iterator[CapturedFile | ImportFailure]:
    """Import files one by one, yielding each result as soon as it is known, so the studio
    shows thumbnails during a long import. A full disk stops the import (every later
    copy would fail too) after reporting it once."""
    for path in expand(paths):
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            yield import_one(path, dest_dir, rules, cancel, reserve_bytes)
        except DiskFull as exc:
            log.warning("import stopped, disk full: %s", exc.detail)
            yield ImportFailure(path, exc.message_vi, exc.detail)
            return
        except DomainError as exc:
            log.warning("import refused %s: %s", path, exc.detail)
            yield ImportFailure(path, exc.message_vi, exc.detail)


def import_files(paths: Sequence[Path], dest_dir: Path, rules: DigitizationRules,
                 cancel: CancelToken | None = None,
                 reserve_bytes: int = DISK_RESERVE_BYTES) -> ImportReport:
    """Import every file that can be imported; the report lists the others with reasons."""
    result = ImportReport()
    for item in iter_import(paths, dest_dir, rules, cancel, reserve_bytes):
        if isinstance(item, ImportFailure):
            result.errors.append(item)
        else:
            result.files.append(item)
    return result

