"""The dossier being received, kept in the database while the clerk works on it.

One draft per counter PC (``intake_drafts``, keyed by the PC's install id): the wizard
saves it when the clerk changes step and shortly after each edit; the next start offers
it back. Several PCs sharing one PostgreSQL database each read and write their own row
only.

Saving a draft is not audited. The audit log records facts (a dossier received, a file
linked, a password changed) in a hash chain that is never rewritten; a draft is the
clerk's unfinished screen, rewritten every few seconds, and decides nothing. Auditing
it would bury the facts under noise and copy citizens' half-typed data into a log that
can never be cleaned. What a draft becomes (received, refused, supplement requested) is
audited as before, and the draft disappears in that same transaction.

A save that arrives late (queued before the dossier was received, or before the clerk
abandoned it) must not bring the draft back: every draft carries an id, and ids this
process finished are never written again. A save never replaces another draft on this
PC either (one from before a crash, not yet resumed or discarded): the only ways past a
saved draft are to resume it or to discard it."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from desktop_app.catalog import CatalogError, CatalogService, ProcedureInfo
from desktop_app.context import AppContext
from desktop_app.domain.errors import DomainError
from desktop_app.domain.text import fold
from desktop_app.intake.draft_payload import DraftUnreadable, from_payload, to_payload
from desktop_app.intake.drafts import ComponentEntry, IntakeDraft, SavedIntake
from desktop_app.scanning.workspace import UNASSIGNED, Slot, Workspace
from local_db import repositories as repo

log = logging.getLogger(__name__)

_WORKSPACE_NAME = re.compile(r"ws-[0-9a-f]{12}")
LAST_STEP = 4


class NoDraft(DomainError):
    pass


class SaveResult(StrEnum):
    SAVED = "saved"
    BLANK = "blank"  # nothing worth keeping: nothing written (a stale copy removed)
    FINISHED = "finished"  # that dossier was already received or abandoned: dropped
    OVERTAKEN = "overtaken"  # a later snapshot of the same draft was saved first: dropped
    OTHER_DRAFT = "other_draft"  # this PC keeps another draft not yet resumed: untouched


@dataclass(frozen=True)
class DraftRef:
    """Which saved draft a counter action finishes (removed in the action's transaction)."""

    install_id: str
    draft_id: str


@dataclass(frozen=True)
class DraftSummary:
    """What the start page says about a saved draft."""

    draft_id: str
    procedure_code: str
    procedure_name: str
    owner_name: str
    step: int
    saved_at: datetime | None
    clerk_id: int | None
    clerk_name: str
    studio_workspace: str = ""
    unsaved_pages: int = 0
    problem: str = ""  # set when the draft cannot be read: it can only be discarded

    @property
    def readable(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class StoredDraft:
    """The saved draft as read back, before it is fitted to today's catalog."""

    saved: SavedIntake
    problems: tuple[str, ...]  # parts of the document that could not be read
    saved_at: datetime
    clerk_id: int | None
    clerk_name: str


@dataclass(frozen=True)
class RestoredIntake:
    """A saved draft fitted to today's catalog, ready to fill the wizard."""

    saved: SavedIntake
    procedure: ProcedureInfo | None  # None: gone from the catalog (choose one again)
    notes: tuple[str, ...]  # what could not be restored, and what changed meanwhile
    workspace: Workspace | None
    saved_at: datetime
    clerk_id: int | None
    clerk_name: str


def _payload_draft_id(payload: object) -> str:
    return str(payload.get("draft_id", "")) if isinstance(payload, dict) else ""


def forget_draft(session: Session, ref: DraftRef) -> None:
    """Remove the draft ``ref`` inside the caller's transaction: the dossier it became
    is recorded in that same commit, so a power cut right after Receive can never offer
    the dossier again. Another draft in the row (none, normally) is left alone."""
    row = repo.intake_draft(session, ref.install_id)
    if row is not None and _payload_draft_id(row.payload) == ref.draft_id:
        repo.delete_intake_draft(session, ref.install_id)


def _has_content(c: ComponentEntry) -> bool:
    return bool(c.provided or c.problem or c.files)


def _describe(c: ComponentEntry) -> str:
    parts = []
    if c.provided:
        parts.append("đã đánh dấu đã nộp")
    if c.problem:
        parts.append(f"ghi chú “{c.problem}”")
    if c.files:
        parts.append(f"{len(c.files)} tệp số hóa")
    return f"“{c.name}”" + (f" ({', '.join(parts)})" if parts else "")


def _match(saved: list[ComponentEntry], fresh: list[ComponentEntry]) -> list[int | None]:
    """For each component of today's catalog, the saved one it continues: the same code
    and name, else the same name (a code renumbered), else the same code (a name
    reworded)."""
    origin: list[int | None] = [None] * len(fresh)
    used: set[int] = set()
    rules = (
        lambda a, b: a.code == b.code and fold(a.name) == fold(b.name),
        lambda a, b: fold(a.name) == fold(b.name),
        lambda a, b: bool(a.code) and a.code == b.code,
    )
    for same in rules:
        for j, new in enumerate(fresh):
            if origin[j] is not None:
                continue
            for i, old in enumerate(saved):
                if i not in used and same(old, new):
                    origin[j] = i
                    used.add(i)
                    break
    return origin


def fit_to_catalog(saved: SavedIntake, proc: ProcedureInfo | None,
                   blob_exists: Callable[[str], bool] | None = None
                   ) -> tuple[SavedIntake, list[int | None], list[str]]:
    """``saved`` adjusted to the procedure as the catalog has it now; for each component
    the index of the saved one it continues; and what the clerk should know (what could
    not be restored, what is new). ``blob_exists(sha256)`` drops files no longer in the
    blob store."""
    notes: list[str] = []
    draft = saved.draft
    if proc is None:
        name = saved.procedure_name or draft.procedure_code
        notes.append(f"Thủ tục “{name}” ({draft.procedure_code}) không còn trong danh mục: "
                     "hãy chọn lại thủ tục. Thông tin người nộp, hình thức nhận kết quả và "
                     "ghi chú vẫn được giữ.")
        notes += [f"Không khôi phục được thành phần {_describe(c)}."
                  for c in draft.components if _has_content(c)]
        fitted = replace(draft, components=[])
        return replace(saved, draft=fitted, step=0), [], notes
    fresh = IntakeDraft.for_procedure(proc).components
    origin = _match(draft.components, fresh)
    for j, i in enumerate(origin):
        if i is None:
            if draft.components:  # a draft that had components: this one is new
                notes.append(f"Thủ tục nay có thêm thành phần “{fresh[j].name}”: hãy kiểm tra.")
            continue
        old, new = draft.components[i], fresh[j]
        new.originals, new.certified_copies, new.photocopies = (
            old.originals, old.certified_copies, old.photocopies)
        new.provided, new.problem = old.provided, old.problem
        for f in old.files:
            if blob_exists is not None and not blob_exists(f.sha256):
                notes.append(f"Tệp số hóa “{f.file_name}” của thành phần “{new.name}” không "
                             "còn trong kho tệp: hãy số hóa lại.")
            else:
                new.files.append(f)
    continued = {i for i in origin if i is not None}
    notes += [f"Thành phần {_describe(c)} không còn trong thủ tục này nên không khôi phục "
              "được." for i, c in enumerate(draft.components)
              if i not in continued and _has_content(c)]
    step = max(0, min(saved.step, LAST_STEP))
    return (replace(saved, draft=replace(draft, components=fresh), step=step,
                    procedure_name=proc.name), origin, notes)


def refit_workspace(ws: Workspace, origin: list[int | None],
                    components: list[ComponentEntry], title: str) -> list[str]:
    """Point the studio pages of a resumed draft at its components' rows as they are now
    (slot keys are row numbers); pages of a component that is gone wait in the unassigned
    tray. Returns what moved, for the clerk."""
    old = {s.key: s for s in ws.slots}
    tray = old.get(UNASSIGNED) or Slot(UNASSIGNED, "Chưa xếp vào thành phần")
    slots = [tray]
    taken: set[str] = set()
    for j, (i, entry) in enumerate(zip(origin, components, strict=True)):
        key = str(i) if i is not None else None
        pages = old[key].pages if key is not None and key in old else []
        if key is not None:
            taken.add(key)
        slots.append(Slot(str(j), entry.name, pages))
    notes = []
    for key, slot in old.items():
        if key != UNASSIGNED and key not in taken and slot.pages:
            tray.pages += slot.pages
            notes.append(f"{len(slot.pages)} trang đã quét của thành phần “{slot.label}” "
                         "được chuyển vào mục “Chưa xếp vào thành phần”.")
    ws.slots = slots
    ws.title = title
    ws.save()
    return notes


class DraftStore:
    """Saves, loads and discards this PC's intake draft. Thread-safe: the wizard saves
    on worker threads while a Receive may be running on another."""

    def __init__(self, ctx: AppContext, install_id: str | None = None) -> None:
        self.ctx = ctx
        self.install_id = install_id or ctx.paths.install_id()
        self.catalog = CatalogService(ctx)
        self._lock = threading.Lock()
        self._finished: set[str] = set()
        self._latest: dict[str, int] = {}  # draft id -> number of the last snapshot saved

    # --- writing ------------------------------------------------------------------------

    def save(self, saved: SavedIntake, clerk_id: int | None, seq: int | None = None
             ) -> SaveResult:
        """Keep ``saved`` as this PC's draft. ``seq`` numbers the caller's snapshots: saves
        run on a thread pool and may be overtaken, and an older snapshot must not replace
        a newer one."""
        if not saved.draft_id:
            raise ValueError("a saved intake needs its draft id")
        with self._lock:
            if saved.draft_id in self._finished:
                return SaveResult.FINISHED
            if seq is not None:
                if seq <= self._latest.get(saved.draft_id, 0):
                    return SaveResult.OVERTAKEN
                self._latest[saved.draft_id] = seq
            with self.ctx.db.write() as s:
                row = repo.intake_draft(s, self.install_id)
                if row is not None and _payload_draft_id(row.payload) != saved.draft_id:
                    return SaveResult.OTHER_DRAFT
                if saved.is_blank():
                    if row is not None:
                        repo.delete_intake_draft(s, self.install_id)
                    return SaveResult.BLANK
                repo.put_intake_draft(s, self.install_id, clerk_id, saved.step,
                                      to_payload(saved), self.ctx.clock.now())
        return SaveResult.SAVED

    def discard(self, draft_id: str) -> bool:
        """The clerk abandoned the draft ``draft_id``: removed, and never saved again."""
        with self._lock:
            self._finished.add(draft_id)
            with self.ctx.db.write() as s:
                row = repo.intake_draft(s, self.install_id)
                if row is None or _payload_draft_id(row.payload) != draft_id:
                    return False
                repo.delete_intake_draft(s, self.install_id)
        log.info("intake draft discarded")
        return True

    @contextmanager
    def finishing(self, draft_id: str) -> Iterator[DraftRef]:
        """Around a counter action that turns the draft into a dossier or a slip: saves
        wait for it and are dropped once it succeeded; if it fails, the draft goes on.
        Pass the ref to the action, which removes the row in its own transaction."""
        with self._lock:
            already = draft_id in self._finished
            self._finished.add(draft_id)
            try:
                yield DraftRef(self.install_id, draft_id)
            except BaseException:
                if not already:
                    self._finished.discard(draft_id)
                raise

    # --- reading ------------------------------------------------------------------------

    def _workspace_path(self, name: str) -> Path | None:
        if not _WORKSPACE_NAME.fullmatch(name):
            return None
        path = self.ctx.paths.scan_work / name
        return path if path.is_dir() else None

    def _row(self) -> tuple[object, int, datetime, int | None, str] | None:
        with self.ctx.db.read() as s:
            row = repo.intake_draft(s, self.install_id)
            if row is None:
                return None
            clerk = repo.clerk_name(s, row.clerk_id) if row.clerk_id is not None else None
            return row.payload, row.step, row.updated_at, row.clerk_id, clerk or ""

    def load(self) -> StoredDraft | None:
        """This PC's draft as saved (None: there is none; raises ``DraftUnreadable``)."""
        found = self._row()
        if found is None:
            return None
        payload, step, saved_at, clerk_id, clerk = found
        saved, problems = from_payload(payload, step)
        return StoredDraft(saved, tuple(problems), saved_at, clerk_id, clerk)

    def summary(self) -> DraftSummary | None:
        try:
            stored = self.load()
        except DraftUnreadable as exc:
            log.warning("unreadable intake draft: %s", exc.detail)
            found = self._row()
            if found is None:
                return None
            payload, step, saved_at, clerk_id, clerk = found
            return DraftSummary(_payload_draft_id(payload), "", "", "", step, saved_at,
                                clerk_id, clerk, problem=exc.message_vi)
        if stored is None:
            return None
        saved = stored.saved
        name = saved.procedure_name  # kept for a procedure gone from the catalog meanwhile
        with contextlib.suppress(CatalogError):
            name = self.catalog.get(saved.draft.procedure_code).name
        pages = 0
        path = self._workspace_path(saved.studio_workspace)
        if path is not None:
            try:
                pages = Workspace.open(path).page_count()
            except DomainError:
                pages = 0
        return DraftSummary(saved.draft_id, saved.draft.procedure_code, name,
                            saved.draft.owner.full_name, saved.step, stored.saved_at,
                            stored.clerk_id, stored.clerk_name, saved.studio_workspace, pages)

    def resume(self) -> RestoredIntake:
        """The saved draft, fitted to today's catalog (raises ``NoDraft`` when it is gone,
        ``DraftUnreadable`` when it cannot be read)."""
        stored = self.load()
        if stored is None:
            raise NoDraft("Bản nháp không còn (đã được tiếp nhận hoặc đã bỏ).",
                          "no intake draft for this PC")
        saved, notes = stored.saved, list(stored.problems)
        proc: ProcedureInfo | None
        try:
            proc = self.catalog.get(saved.draft.procedure_code)
        except CatalogError:
            proc = None
        fitted, origin, fit_notes = fit_to_catalog(
            saved, proc, lambda sha: self.ctx.blobs.path_for(sha).is_file())
        notes += fit_notes
        ws = None
        path = self._workspace_path(saved.studio_workspace)
        if path is not None:
            try:
                ws = Workspace.open(path)
            except DomainError as exc:
                log.warning("studio work of the draft not readable: %s", exc.detail)
                notes.append("Các trang đã quét của hồ sơ này không đọc được.")
        if ws is not None:
            owner = fitted.draft.owner.full_name
            title = (f"Hồ sơ {proc.name if proc else fitted.procedure_name}"
                     + (f" — {owner}" if owner else ""))
            notes += refit_workspace(ws, origin, fitted.draft.components, title)
        else:
            fitted = replace(fitted, studio_workspace="")
        log.info("intake draft resumed at step %d (%d notes)", fitted.step, len(notes))
        return RestoredIntake(fitted, proc, tuple(notes), ws, stored.saved_at,
                              stored.clerk_id, stored.clerk_name)
