"""A hot folder: large-format scanner software (A0/A1 land maps, drawings) saves TIFF,
JPEG, PNG or PDF files into a folder, and the studio takes them from there.

Rules, each for a reason:

* a file is taken only when it is complete: its size and mtime have not changed for a
  settle period, it is not locked by the writer (Windows), and it is structurally whole
  (JPEG ends with EOI, PDF has ``%%EOF`` at its end, PNG/TIFF headers and data offsets are
  consistent) — scanner software writes big files slowly and sometimes pauses;
* temporary and hidden names (``.part``, ``.tmp``, ``~$…``, dot files) are never touched;
* a file is never taken twice and never lost, even if the application is closed half-way.
  A durable journal (SQLite, ``synchronous=FULL``, rollback journal so it also works on a
  network share) records every step: claim → copy into the work directory (fsynced,
  renamed) → commit → move the original into ``da-nhan/``. On the next start, unfinished
  rows are completed or rolled back, so each file is delivered exactly once. The journal
  is ``hotfolder_journal.Journal``;
* several counters may watch one folder (one large-format scanner on a share): a station
  claims a finished file by renaming it into its own ``.motcua-claimed/<station>/``
  (one rename inside one volume is atomic on NTFS, SMB and POSIX, so exactly one station
  wins; the others find the file gone and skip it) and takes it from there. A station's
  claimed files are its own to finish after a crash; another station's are reported,
  never taken. With ``keep_originals`` or in a folder where nothing can be created, files
  are read in place and the journal alone decides: safe for one station only.

No Qt here (the core must run headless): ``poll()`` does one pass, ``watch()`` polls on an
interval until cancelled."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import socket
import stat
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from desktop_app.files import fsync_dir, sha256_file
from desktop_app.scanning.model import (
    CancelledError,
    CancelToken,
    CapturedFile,
    DigitizationRules,
    ScanProfile,
)
from desktop_app.scanning.sources.base import (
    DISK_RESERVE_BYTES,
    CaptureProgress,
    CaptureSource,
    DeviceInfo,
    ProgressFn,
    ScannerUnavailable,
    copy_atomically,
    ensure_room,
    image_dpi,
    report,
    unique_path,
)
from desktop_app.scanning.sources.hotfolder_journal import Journal, JournalRow

log = logging.getLogger(__name__)

DONE_SUBDIR = "da-nhan"
CLAIM_SUBDIR = ".motcua-claimed"  # a dot name: never a candidate itself
ACCEPTED_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".pdf"})
_TEMP_SUFFIXES = frozenset({".part", ".tmp", ".temp", ".crdownload", ".partial", ".download",
                            ".filepart", ".lock", ".swp"})
_PDF_TAIL = 2048
_SLEEP_STEP_S = 0.05
_FILE_ATTRIBUTE_HIDDEN = 0x2


# --- which files, and are they finished? -----------------------------------------------------


def ignored_name(name: str) -> bool:
    """Names scanner software, Office and copy tools use while a file is being written."""
    low = name.lower()
    if low.startswith((".", "~$", "~")) or low.endswith("~"):
        return True
    return Path(low).suffix in _TEMP_SUFFIXES


def _hidden(st: os.stat_result) -> bool:
    return bool(getattr(st, "st_file_attributes", 0) & _FILE_ATTRIBUTE_HIDDEN)


def structurally_complete(path: Path) -> bool:
    """Whether the file's own structure says it was written to the end."""
    try:
        with path.open("rb") as f:
            head = f.read(16)
            size = os.fstat(f.fileno()).st_size
            f.seek(max(0, size - _PDF_TAIL))
            tail = f.read()
    except OSError:
        return False
    if head.startswith(b"\xff\xd8\xff"):
        return tail.rstrip(b"\x00").endswith(b"\xff\xd9") and _pillow_ok(path, "JPEG", False)
    if b"%PDF-" in head:
        return b"%%EOF" in tail
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _pillow_ok(path, "PNG", True)
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return _tiff_complete(path, size)
    return False


def _pillow_ok(path: Path, fmt: str, verify: bool) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb and corrupt-EXIF warnings: judged below
            with Image.open(path, formats=[fmt]) as im:
                if verify:
                    im.verify()  # PNG: walks every chunk to IEND checking CRCs
    except Image.DecompressionBombError:
        return True  # the header was read in full; the pipeline refuses the size itself
    except Exception:  # Pillow raises many kinds on a file cut short; all mean "not yet"
        return False
    return True


def _tiff_complete(path: Path, size: int) -> bool:
    """Every page's directory reads and its strips/tiles lie inside the file: a TIFF cut
    short has directories pointing past its end."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path, formats=["TIFF"]) as im:
                for frame in range(getattr(im, "n_frames", 1)):
                    im.seek(frame)
                    if _data_end(im.tag_v2) > size:
                        return False
    except Image.DecompressionBombError:
        return True
    except Exception:  # e.g. TypeError "Missing dimensions" on a truncated directory
        return False
    return True


def _data_end(tags: object) -> int:
    get = getattr(tags, "get", None)
    if get is None:
        return 0
    end = 0
    for offsets_tag, counts_tag in ((273, 279), (324, 325)):  # strips, tiles
        offsets, counts = get(offsets_tag), get(counts_tag)
        if offsets is None or counts is None:
            continue
        offsets = offsets if isinstance(offsets, tuple) else (offsets,)
        counts = counts if isinstance(counts, tuple) else (counts,)
        end = max([end, *(int(o) + int(c) for o, c in zip(offsets, counts, strict=False))])
    return end


def locked_by_writer(path: Path) -> bool:
    """On Windows the scanner software usually holds its output open without write
    sharing while it writes; opening for update then fails with a sharing violation.
    POSIX has no such locks (stability and structure checks cover it)."""
    if os.name != "nt" or not os.access(path, os.W_OK):
        return False
    try:
        with path.open("r+b"):
            return False
    except PermissionError:
        return True
    except OSError:
        return True


class _HashingReader:
    """Hashes what is copied, so the copy and the journal's hash come from one read."""

    def __init__(self, f: object) -> None:
        self._f = f
        self.hash = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        data: bytes = self._f.read(n)  # type: ignore[attr-defined]
        self.hash.update(data)
        return data


# --- the hot folder --------------------------------------------------------------------------


@dataclass
class _Observation:
    size: int
    mtime_ns: int
    since: float  # monotonic time at which this (size, mtime) was first seen


def default_station_id() -> str:
    """For a hot folder opened without the PC's install id: its host name, unique on a LAN."""
    return "host-" + re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname() or "local")


def pending_claims(folder: Path) -> dict[str, tuple[int, float]]:
    """Files claimed but not finished, per claim directory: (count, the directory's last
    change, i.e. that station's last claim or finish, as a POSIX time). A station finishes
    its own at its next start; what stays here long belongs to one that has not come back."""
    out: dict[str, tuple[int, float]] = {}
    with contextlib.suppress(OSError):
        for station_dir in os.scandir(folder / CLAIM_SUBDIR):
            if not station_dir.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError):
                count = sum(1 for e in os.scandir(station_dir.path)
                            if e.is_file(follow_symlinks=False) and not ignored_name(e.name))
                if count:
                    out[station_dir.name] = (count, station_dir.stat().st_mtime)
    return out


def default_state_dir(folder: Path) -> Path:
    """A hidden sibling of the hot folder: it survives reinstalling the application and
    stays with the folder when a technician moves both."""
    return folder.parent / f".{folder.name}.motcua"


class HotFolder(CaptureSource):
    name = "hotfolder"
    label_vi = "Thư mục quét"

    def __init__(self, folder: Path, state_dir: Path | None = None, *,
                 settle_s: float = 3.0, done_subdir: str = DONE_SUBDIR,
                 keep_originals: bool = False, idle_stop_s: float = 10.0,
                 rules: DigitizationRules | None = None,
                 reserve_bytes: int = DISK_RESERVE_BYTES,
                 clock: Callable[[], float] = time.monotonic,
                 station_id: str | None = None, station_label: str = "") -> None:
        """``keep_originals`` leaves originals in place (read-only shares); the journal
        alone then keeps them from being taken again. ``idle_stop_s``: ``capture()`` ends
        after this long with nothing new and nothing still being written.
        ``station_id`` (the PC's install id) names this station's claims; ``station_label``
        (``quay-2``) only makes its claim directory readable."""
        self.folder = Path(folder)
        self.state_dir = Path(state_dir) if state_dir else default_state_dir(self.folder)
        self.settle_s = settle_s
        self.done_subdir = done_subdir
        self.done_dir = self.folder / done_subdir
        self.keep_originals = keep_originals
        self.idle_stop_s = idle_stop_s
        self.rules = rules or DigitizationRules()
        self.reserve_bytes = reserve_bytes
        self.clock = clock
        self.station_id = station_id or default_station_id()
        self.station_label = station_label
        # "quay-2-<install id>": the id keeps it unique and stable when the station digit
        # changes (``_own_claim_dirs`` matches on it); the label is for a technician.
        claim_name = f"{station_label}-{self.station_id}" if station_label else self.station_id
        self.claim_dir = self.folder / CLAIM_SUBDIR / claim_name
        self._others_reported = False
        self._unclaimable_reported = False
        self._observed: dict[str, _Observation] = {}
        self._refused: set[tuple[str, int, int]] = set()
        self._journal: Journal | None = None
        self.last_change = clock()

    # --- CaptureSource -----------------------------------------------------------------------

    def available(self) -> bool:
        return self.folder.is_dir()

    def list_devices(self) -> list[DeviceInfo]:
        if not self.available():
            return []
        return [DeviceInfo(id=str(self.folder), label=str(self.folder), kind="hot folder")]

    def for_device(self, device_id: str) -> HotFolder:
        return HotFolder(Path(device_id), settle_s=self.settle_s,
                         done_subdir=self.done_subdir, keep_originals=self.keep_originals,
                         idle_stop_s=self.idle_stop_s, rules=self.rules,
                         reserve_bytes=self.reserve_bytes, clock=self.clock,
                         station_id=self.station_id, station_label=self.station_label)

    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        """Take what is ready, wait for files still being written, and stop once the folder
        has been quiet for ``idle_stop_s``."""
        interval = min(1.0, max(self.settle_s / 3, 0.05))
        taken = 0
        for captured in self.watch(dest_dir, cancel, interval_s=interval,
                                   stop_when_idle_s=self.idle_stop_s):
            taken += 1
            report(progress, CaptureProgress(taken, 1.0, taken,
                                             f"Đã nhận {taken} tệp từ thư mục quét."))
            yield captured
        if cancel is not None and cancel.cancelled:
            raise CancelledError(f"hot folder {self.folder}: cancelled after {taken} files")

    # --- polling -----------------------------------------------------------------------------

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(self.state_dir / "journal.sqlite3")
        return self._journal

    def _check_folder(self) -> None:
        if not self.folder.is_dir():
            raise ScannerUnavailable(
                f"Không truy cập được thư mục quét “{self.folder}”. Hãy kiểm tra ổ đĩa hoặc "
                "thư mục dùng chung đã được kết nối, rồi thử lại.",
                f"hot folder {self.folder} is not a directory or not reachable")

    def poll(self, dest_dir: Path) -> list[CapturedFile]:
        """One pass: finish anything a previous run left half-done, then take every file
        that is complete and stable. Returns the files newly delivered into ``dest_dir``."""
        self._check_folder()
        dest_dir.mkdir(parents=True, exist_ok=True)
        delivered = self.recover(dest_dir)
        for path, st in self._candidates():
            captured = self._consider(path, st, dest_dir)
            if captured is not None:
                delivered.append(captured)
        if delivered:
            self.last_change = self.clock()
        return delivered

    def watch(self, dest_dir: Path, cancel: CancelToken | None = None, *,
              interval_s: float = 1.0,
              stop_when_idle_s: float | None = None) -> Iterator[CapturedFile]:
        """Poll every ``interval_s`` and yield files as they are taken; ends when
        ``cancel`` fires, or after ``stop_when_idle_s`` of quiet when given."""
        self.last_change = self.clock()
        while not (cancel is not None and cancel.cancelled):
            yield from self.poll(dest_dir)
            if stop_when_idle_s is not None and self.clock() - self.last_change >= \
                    stop_when_idle_s:
                return
            _sleep(interval_s, cancel)

    def _candidates(self) -> list[tuple[Path, os.stat_result]]:
        out = []
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError as exc:
            raise ScannerUnavailable(
                f"Không đọc được thư mục quét “{self.folder}”.",
                f"scandir {self.folder}: {exc!r}") from exc
        for entry in entries:
            if ignored_name(entry.name) or Path(entry.name).suffix.lower() not in \
                    ACCEPTED_SUFFIXES:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # deleted between listing and stat
            if stat.S_ISREG(st.st_mode) and not _hidden(st):
                out.append((Path(entry.path), st))
        names = {p.name for p, _ in out}
        for gone in set(self._observed) - names:
            del self._observed[gone]
        return out

    def _consider(self, path: Path, st: os.stat_result, dest_dir: Path) -> CapturedFile | None:
        key = (path.name, st.st_size, st.st_mtime_ns)
        if key in self._refused or self.journal.seen(*key):
            return None
        if not self._stable(path.name, st):
            return None
        if st.st_size == 0 or locked_by_writer(path) or not structurally_complete(path):
            return None
        if st.st_size > self.rules.max_input_bytes:
            log.warning("hot folder: %s is %d bytes > max_input_bytes; left in place",
                        path, st.st_size)
            self._refused.add(key)
            return None
        return self._take(path, st, dest_dir)

    def _stable(self, name: str, st: os.stat_result) -> bool:
        now = self.clock()
        seen = self._observed.get(name)
        if seen is None or (seen.size, seen.mtime_ns) != (st.st_size, st.st_mtime_ns):
            self._observed[name] = _Observation(st.st_size, st.st_mtime_ns, now)
            self.last_change = now  # something is still being written: not idle
            return False
        return now - seen.since >= self.settle_s

    # --- taking one file ---------------------------------------------------------------------

    def _take(self, path: Path, st: os.stat_result, dest_dir: Path) -> CapturedFile | None:
        ensure_room(dest_dir, st.st_size, 0, self.reserve_bytes)
        source = path if self.keep_originals else self._claim(path, st)
        if source is None:
            self._observed.pop(path.name, None)
            return None
        return self._take_from(source, path.name, st, dest_dir)

    def _claim(self, path: Path, st: os.stat_result) -> Path | None:
        """Move the file into this station's claim directory; ``None`` when another
        station was first (the file is gone) or the writer still holds it (Windows).
        In a folder where nothing can be created (a read-only share) the file is taken in
        place as before claims existed: the journal alone keeps it from being taken
        twice, which is safe for one station only."""
        try:
            self.claim_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if not self._unclaimable_reported:
                self._unclaimable_reported = True
                log.warning("hot folder %s: cannot create %s (%r); files are taken in place, "
                            "which is safe only if no other counter watches this folder",
                            self.folder, self.claim_dir, exc)
            return path
        try:
            claimed = unique_path(self.claim_dir, path.name)
            os.rename(path, claimed)
        except FileNotFoundError:
            return None  # another station claimed it first: its file now, not an error
        except OSError as exc:
            log.info("hot folder: could not claim %s: %r; will retry", path, exc)
            return None
        fsync_dir(self.claim_dir)
        after = claimed.stat()
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            # A new file under the same name replaced the one judged complete.
            self._unclaim(claimed, path.name)
            return None
        return claimed

    def _unclaim(self, claimed: Path, name: str) -> None:
        """Give a claimed file back to the folder (it changed, or this station cannot take
        it now); if the name is in use it stays claimed and ``recover`` takes it."""
        back = self.folder / name
        if claimed.parent == self.folder or back.exists():
            return
        try:
            os.rename(claimed, back)
        except OSError as exc:
            log.warning("hot folder: could not give %s back to %s: %r", claimed, back, exc)

    def _take_from(self, source: Path, name: str, st: os.stat_result, dest_dir: Path
                   ) -> CapturedFile | None:
        ensure_room(dest_dir, st.st_size, 0, self.reserve_bytes)
        copy_path = unique_path(dest_dir, f"hf-{name}")
        row_id = self.journal.claim(name, st.st_size, st.st_mtime_ns, copy_path,
                                    station=self.station_id, source=source)
        try:
            sha = self._copy(source, st, copy_path)
        except Exception:
            # An ordinary failure (disk full, file changed): undo the claim; the original
            # goes back to the folder and will be considered again.
            copy_path.unlink(missing_ok=True)
            self.journal.drop(row_id)
            self._unclaim(source, name)
            raise
        if sha is None:
            copy_path.unlink(missing_ok=True)
            self.journal.drop(row_id)
            self._unclaim(source, name)
            self._observed.pop(name, None)
            return None
        move_to = None if self.keep_originals else unique_path(self.done_dir, name)
        self.journal.commit(row_id, sha, move_to)
        self._move_original(source, st.st_size, st.st_mtime_ns, move_to)
        self.journal.done(row_id, copy_path)
        log.info("hot folder: took %s (%d bytes, sha256 %s) as %s", source, st.st_size, sha,
                 copy_path)
        return self._captured(copy_path, name)

    def _copy(self, path: Path, st: os.stat_result, copy_path: Path) -> str | None:
        """Copy and hash in one read; ``None`` when the file changed meanwhile."""
        with path.open("rb") as f:
            reader = _HashingReader(f)
            copy_atomically(reader, copy_path)  # type: ignore[arg-type]
        after = path.stat()
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            log.info("hot folder: %s changed while being copied; will retry", path)
            return None
        return reader.hash.hexdigest()

    def _move_original(self, path: Path, size: int, mtime_ns: int, move_to: Path | None) -> None:
        if move_to is None:
            return
        try:
            st = path.stat()
        except FileNotFoundError:
            return  # already moved before a crash, or removed by someone
        if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
            return  # a new file under the same name: not ours to move
        try:
            move_to.parent.mkdir(parents=True, exist_ok=True)
            if move_to.exists():
                move_to = unique_path(move_to.parent, move_to.name)
            os.replace(path, move_to)
            fsync_dir(move_to.parent)
        except OSError as exc:
            # The copy is safe and journaled; the journal alone keeps it from being taken
            # again. A read-only share is a configuration to report, not a reason to stop.
            log.warning("hot folder: could not move %s to %s: %r", path, move_to, exc)

    def _captured(self, copy_path: Path, original_name: str) -> CapturedFile:
        return CapturedFile(path=copy_path, source=f"hotfolder:{self.folder}",
                            dpi=image_dpi(copy_path), original_name=original_name)

    # --- recovery ----------------------------------------------------------------------------

    def recover(self, dest_dir: Path) -> list[CapturedFile]:
        """Complete or roll back takes a previous run left unfinished (closed or crashed
        mid-way). Returns the files that are delivered now."""
        delivered = []
        for row in self.journal.unfinished(self.station_id):
            _remove_temp_copies(row.copy_path)
            if row.state == "claimed":
                row = self._recover_claim(row)
                if row is None:
                    continue
            captured = self._finish_committed(row, dest_dir)
            if captured is not None:
                delivered.append(captured)
        delivered += self._recover_claimed_files(dest_dir)
        if not self._others_reported:
            self._others_reported = True
            self._report_other_claims()
        return delivered

    def _own_claim_dirs(self) -> list[Path]:
        """This station's claim directory, and any it had under another station digit."""
        try:
            entries = list(os.scandir(self.folder / CLAIM_SUBDIR))
        except OSError:
            return []
        mine = re.compile(rf"(quay-\d+-)?{re.escape(self.station_id)}")
        return sorted(Path(e.path) for e in entries if e.is_dir(follow_symlinks=False) and (
            e.name == self.claim_dir.name or mine.fullmatch(e.name)))

    def _recover_claimed_files(self, dest_dir: Path) -> list[CapturedFile]:
        """Files this station claimed and then did not finish: taken now, without waiting
        for them to settle (they were complete when claimed)."""
        delivered = []
        for claim_dir in self._own_claim_dirs():
            for entry in sorted(os.scandir(claim_dir), key=lambda e: e.name):
                if ignored_name(entry.name) or not entry.is_file(follow_symlinks=False):
                    continue
                path, st = Path(entry.path), entry.stat()
                row = self.journal.take_of(path, st.st_size, st.st_mtime_ns)
                if row is None:  # claimed, then stopped before the journal knew
                    log.info("hot folder: resuming claimed %s", path)
                    captured = self._take_from(path, entry.name, st, dest_dir)
                    if captured is not None:
                        delivered.append(captured)
                elif row.state == "done":  # delivered; only the move to da-nhan failed
                    self._move_original(path, st.st_size, st.st_mtime_ns,
                                        row.move_to or unique_path(self.done_dir, row.name))
        return delivered

    def _report_other_claims(self) -> None:
        """Claims of other stations are theirs to finish at their next start; one that
        never comes back needs a technician, who sees it here and in the doctor."""
        own = {p.name for p in self._own_claim_dirs()}
        for station, (count, changed) in sorted(pending_claims(self.folder).items()):
            if station not in own:
                log.warning("hot folder %s: %d file(s) claimed by station %s and not finished "
                            "(its last claim %s); left for that station. If it will not "
                            "come back, move them from %s back into the folder.",
                            self.folder, count, station,
                            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(changed)),
                            self.folder / CLAIM_SUBDIR / station)

    def _recover_claim(self, row: JournalRow) -> JournalRow | None:
        """A claim whose copy is complete and identical to the untouched original is
        committed; anything else is rolled back and the original is taken afresh."""
        original = row.source or self.folder / row.name
        try:
            st = original.stat()
            same = (st.st_size, st.st_mtime_ns) == (row.size, row.mtime_ns)
            if same and row.copy_path.is_file() and row.copy_path.stat().st_size == row.size:
                sha = sha256_file(row.copy_path)
                if sha == sha256_file(original):
                    move_to = None if self.keep_originals else unique_path(self.done_dir,
                                                                           row.name)
                    self.journal.commit(row.id, sha, move_to)
                    log.info("hot folder: recovered claim %d for %s", row.id, row.name)
                    return JournalRow(row.id, row.name, row.size, row.mtime_ns, sha,
                                      row.copy_path, move_to, "committed", row.source)
        except OSError as exc:
            log.info("hot folder: claim %d for %s not recoverable: %r", row.id, row.name, exc)
        row.copy_path.unlink(missing_ok=True)
        self.journal.drop(row.id)
        log.info("hot folder: rolled back claim %d for %s", row.id, row.name)
        return None

    def _finish_committed(self, row: JournalRow, dest_dir: Path) -> CapturedFile | None:
        self._move_original(row.source or self.folder / row.name, row.size, row.mtime_ns,
                            row.move_to)
        copy_path = row.copy_path
        if copy_path.is_file() and copy_path.parent.resolve() != dest_dir.resolve():
            copy_path = _relocate(copy_path, dest_dir)
        self.journal.done(row.id, copy_path)
        if not copy_path.is_file():
            log.error("hot folder: copy %s of %s is gone; the original is kept in %s",
                      row.copy_path, row.name, row.move_to or row.source or self.folder)
            return None
        log.info("hot folder: finished take %d of %s after a restart", row.id, row.name)
        return self._captured(copy_path, row.name)


def _remove_temp_copies(copy_path: Path) -> None:
    """Temporary files of an interrupted copy (see ``copy_atomically``)."""
    with contextlib.suppress(OSError):
        for tmp in copy_path.parent.glob(f".{copy_path.name}.*.part"):
            tmp.unlink(missing_ok=True)


def _relocate(path: Path, dest_dir: Path) -> Path:
    """Bring a copy made by an earlier run into this run's work directory."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = unique_path(dest_dir, path.name)
    try:
        os.replace(path, target)
    except OSError:  # another volume
        with path.open("rb") as f:
            copy_atomically(f, target)
        path.unlink()
    fsync_dir(dest_dir)
    return target


def _sleep(seconds: float, cancel: CancelToken | None) -> None:
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        if cancel is not None and cancel.cancelled:
            return
        time.sleep(min(_SLEEP_STEP_S, left))


class HotFolderSource(CaptureSource):
    """The configured hot folders of this station, as devices."""

    name = "hotfolder"
    label_vi = "Thư mục quét"

    def __init__(self, folders: Sequence[Path], **options: object) -> None:
        self.folders = [Path(f) for f in folders]
        self.options = options

    def available(self) -> bool:
        return any(f.is_dir() for f in self.folders)

    def list_devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(id=str(f), label=str(f), kind="hot folder")
                for f in self.folders if f.is_dir()]

    def for_device(self, device_id: str) -> HotFolder:
        return HotFolder(Path(device_id), **self.options)  # type: ignore[arg-type]

    def capture(self, profile: ScanProfile, dest_dir: Path, cancel: CancelToken | None = None,
                progress: ProgressFn | None = None) -> Iterator[CapturedFile]:
        if not self.folders:
            raise ScannerUnavailable("Chưa cấu hình thư mục quét nào cho máy này.",
                                     "no hot folder configured")
        yield from self.for_device(str(self.folders[0])).capture(profile, dest_dir, cancel,
                                                                 progress)
