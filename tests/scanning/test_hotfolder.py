"""Hot folder: files are taken only when complete and stable, exactly once, across polls,
restarts and crashes at every step of a take."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import CancelledError, CancelToken, ScanProfile
from desktop_app.scanning.sources import hotfolder as hf_module
from desktop_app.scanning.sources.hotfolder import (
    DONE_SUBDIR,
    HotFolder,
    ignored_name,
    structurally_complete,
)
from desktop_app.scanning.sources.hotfolder_journal import Journal

pytestmark = pytest.mark.nodb

SETTLE = 0.12


class SimulatedCrash(BaseException):
    """The application dies here: no ``except Exception`` clean-up runs."""


def image_bytes(fmt: str, size: tuple[int, int] = (300, 200), frames: int = 1) -> bytes:
    im = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    if frames > 1:
        im.save(out, fmt, save_all=True, append_images=[im.copy() for _ in range(frames - 1)],
                dpi=(300, 300))
    else:
        im.save(out, fmt, dpi=(300, 300))
    return out.getvalue()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder, state, dest = tmp_path / "scan-in", tmp_path / "state", tmp_path / "raw"
    folder.mkdir()
    return folder, state, dest


def hot(folder: Path, state: Path, **kw: object) -> HotFolder:
    return HotFolder(folder, state, settle_s=SETTLE, **kw)  # type: ignore[arg-type]


def poll_until(h: HotFolder, dest: Path, want: int = 1, timeout: float = 5.0) -> list:
    got: list = []
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(got) < want:
        got += h.poll(dest)
        time.sleep(0.05)
    return got


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_slowly_written_file_is_taken_only_when_complete(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    data = image_bytes("JPEG", (800, 600))
    target = folder / "ban-do.jpg"
    h = hot(folder, state)
    done = threading.Event()

    def writer() -> None:
        step = len(data) // 8 + 1
        with target.open("wb") as f:
            for i in range(0, len(data), step):
                f.write(data[i:i + step])
                f.flush()
                time.sleep(SETTLE / 2)  # pauses shorter than the settle period
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    while not done.is_set():
        assert h.poll(dest) == []  # never while it grows
        time.sleep(0.03)
    t.join()
    got = poll_until(h, dest)
    assert len(got) == 1
    f = got[0]
    assert f.original_name == "ban-do.jpg" and f.dpi == 300
    assert f.path.read_bytes() == data
    assert not target.exists() and (folder / DONE_SUBDIR / "ban-do.jpg").read_bytes() == data
    assert h.poll(dest) == [] and sorted(dest.iterdir()) == [f.path]


def test_settle_period_restarts_when_the_file_changes(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    now = [0.0]
    h = HotFolder(folder, state, settle_s=5.0, clock=lambda: now[0])
    target = folder / "a1.jpg"
    target.write_bytes(image_bytes("JPEG"))
    assert h.poll(dest) == []
    now[0] = 4.9
    assert h.poll(dest) == []
    st = target.stat()
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # writer touched it
    now[0] = 6.0
    assert h.poll(dest) == []  # changed: a new settle period starts
    now[0] = 10.9
    assert h.poll(dest) == []
    now[0] = 11.1
    assert len(h.poll(dest)) == 1


def test_truncated_jpeg_is_never_taken_until_completed(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    data = image_bytes("JPEG")
    target = folder / "cut.jpg"
    target.write_bytes(data[: len(data) // 2])
    h = hot(folder, state)
    end = time.monotonic() + SETTLE * 4
    while time.monotonic() < end:
        assert h.poll(dest) == []  # stable, but structurally incomplete
        time.sleep(0.05)
    with target.open("ab") as f:
        f.write(data[len(data) // 2:])
    got = poll_until(h, dest)
    assert [g.path.read_bytes() for g in got] == [data]


def test_taken_once_across_polls_and_a_restart(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    (folder / "a.png").write_bytes(image_bytes("PNG"))
    (folder / "b.tif").write_bytes(image_bytes("TIFF", frames=3))
    h = hot(folder, state, keep_originals=True)  # originals stay: only the journal decides
    got = poll_until(h, dest, want=2)
    assert sorted(g.original_name for g in got) == ["a.png", "b.tif"]
    for _ in range(2):
        time.sleep(SETTLE)
        assert h.poll(dest) == []
    again = hot(folder, state, keep_originals=True)  # the application was restarted
    time.sleep(SETTLE)
    assert again.poll(dest) == [] and again.poll(dest) == []
    time.sleep(SETTLE + 0.05)
    assert again.poll(dest) == []
    assert len(list(dest.iterdir())) == 2
    assert (folder / "a.png").exists()


def test_rewritten_file_with_the_same_name_is_new(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    h = hot(folder, state)
    (folder / "scan0001.jpg").write_bytes(image_bytes("JPEG", (100, 100)))
    assert len(poll_until(h, dest)) == 1
    (folder / "scan0001.jpg").write_bytes(image_bytes("JPEG", (120, 100)))  # next document
    second = poll_until(h, dest)
    assert len(second) == 1
    assert sorted(p.name for p in (folder / DONE_SUBDIR).iterdir()) == [
        "scan0001-2.jpg", "scan0001.jpg"]


def test_temporary_and_hidden_names_are_ignored(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    names = ["map.tif.part", "~$form.pdf", ".hidden.jpg", "x.tmp", "notes.txt", "copy.jpg~"]
    for name in names:
        (folder / name).write_bytes(image_bytes("JPEG"))
    h = hot(folder, state)
    for _ in range(4):
        assert h.poll(dest) == []
        time.sleep(SETTLE / 2)
    assert sorted(p.name for p in folder.iterdir()) == sorted(names)
    assert all(ignored_name(n) for n in names if n != "notes.txt")


def _crash_once(monkeypatch: pytest.MonkeyPatch, owner: object, attr: str) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise SimulatedCrash(attr)

    monkeypatch.setattr(owner, attr, crash)


def _assert_taken_once(folder: Path, state: Path, dest: Path, data: bytes, name: str) -> None:
    restarted = hot(folder, state)
    got = poll_until(restarted, dest)
    assert len(got) == 1 and got[0].path.read_bytes() == data
    for _ in range(2):
        time.sleep(SETTLE)
        assert restarted.poll(dest) == []
    files = [p for p in dest.iterdir()]
    assert files == [got[0].path]  # no second copy, no temporary file
    assert (folder / DONE_SUBDIR / name).read_bytes() == data and not (folder / name).exists()
    assert Journal(state / "journal.sqlite3").count_done() == 1


def test_crash_between_copy_and_commit(dirs: tuple[Path, Path, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state, dest = dirs
    data = image_bytes("PNG")
    (folder / "land.png").write_bytes(data)
    h = hot(folder, state)
    with monkeypatch.context() as m:
        _crash_once(m, Journal, "commit")
        with pytest.raises(SimulatedCrash):
            poll_until(h, dest)
    assert [p.name for p in dest.iterdir()] == ["hf-land.png"]  # copy present, not journaled
    _assert_taken_once(folder, state, dest, data, "land.png")


def test_crash_between_commit_and_move(dirs: tuple[Path, Path, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state, dest = dirs
    data = image_bytes("JPEG")
    (folder / "so-do.jpg").write_bytes(data)
    h = hot(folder, state)
    with monkeypatch.context() as m:
        _crash_once(m, HotFolder, "_move_original")
        with pytest.raises(SimulatedCrash):
            poll_until(h, dest)
    assert [p.name for p in h.claim_dir.iterdir()] == ["so-do.jpg"]  # journaled, not moved
    _assert_taken_once(folder, state, dest, data, "so-do.jpg")


def test_crash_after_move_before_done(dirs: tuple[Path, Path, Path],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state, dest = dirs
    data = image_bytes("TIFF", frames=2)
    (folder / "hop-dong.tif").write_bytes(data)
    h = hot(folder, state)
    with monkeypatch.context() as m:
        _crash_once(m, Journal, "done")
        with pytest.raises(SimulatedCrash):
            poll_until(h, dest)
    _assert_taken_once(folder, state, dest, data, "hop-dong.tif")


def test_crash_in_the_middle_of_copying(dirs: tuple[Path, Path, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state, dest = dirs
    data = image_bytes("PNG", (500, 400))
    (folder / "big.png").write_bytes(data)

    def half_copy(src: object, target: Path, *args: object, **kw: object) -> int:
        tmp = target.with_name(f".{target.name}.deadbeef.part")
        tmp.write_bytes(data[:100])
        raise SimulatedCrash("copy")

    with monkeypatch.context() as m:
        m.setattr(hf_module, "copy_atomically", half_copy)
        with pytest.raises(SimulatedCrash):
            poll_until(hot(folder, state), dest)
    _assert_taken_once(folder, state, dest, data, "big.png")


def test_recovered_copy_moves_to_the_new_work_directory(dirs: tuple[Path, Path, Path],
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    folder, state, dest = dirs
    data = image_bytes("JPEG")
    (folder / "x.jpg").write_bytes(data)
    with monkeypatch.context() as m:
        _crash_once(m, HotFolder, "_move_original")
        with pytest.raises(SimulatedCrash):
            poll_until(hot(folder, state), dest)
    new_dest = dest.parent / "raw-2"
    got = hot(folder, state).poll(new_dest)  # recovery does not wait for settling
    assert len(got) == 1 and got[0].path.parent == new_dest
    assert got[0].path.read_bytes() == data and list(dest.iterdir()) == []


def test_structural_checks() -> None:
    jpeg, png, tiff = image_bytes("JPEG"), image_bytes("PNG"), image_bytes("TIFF", frames=2)
    pdf = io.BytesIO()
    Image.new("L", (50, 50), 255).save(pdf, "PDF")
    cases = {"ok.jpg": jpeg, "ok.png": png, "ok.tif": tiff, "ok.pdf": pdf.getvalue(),
             "cut.jpg": jpeg[:-10], "cut.png": png[:-20], "cut.tif": tiff[: len(tiff) // 2],
             "cut.pdf": pdf.getvalue()[: len(pdf.getvalue()) // 2], "empty.jpg": b""}
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        for name, data in cases.items():
            p = Path(d) / name
            p.write_bytes(data)
            assert structurally_complete(p) is name.startswith("ok"), name


def test_watch_yields_as_files_arrive_and_stops_on_cancel(dirs: tuple[Path, Path, Path]
                                                          ) -> None:
    folder, state, dest = dirs
    h = hot(folder, state)
    token = CancelToken()
    threading.Timer(0.1, lambda: (folder / "a.jpg").write_bytes(image_bytes("JPEG"))).start()
    got = []
    for f in h.watch(dest, token, interval_s=0.05):
        got.append(f)
        token.cancel()
    assert [g.original_name for g in got] == ["a.jpg"]


def test_capture_ends_when_the_folder_is_quiet(dirs: tuple[Path, Path, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state, dest = dirs
    (folder / "one.png").write_bytes(image_bytes("PNG"))
    now = [0.0]  # the hot folder's clock; its waits between polls move it, not the wall's

    def wait(seconds: float, cancel: CancelToken | None) -> None:
        assert now[0] < 600, "the capture never ended"
        now[0] += seconds

    monkeypatch.setattr(hf_module, "_sleep", wait)
    h = HotFolder(folder, state, settle_s=SETTLE, idle_stop_s=0.6, clock=lambda: now[0])
    got = list(h.capture(ScanProfile("a0", "A0", page_size="A0"), dest))
    assert [g.original_name for g in got] == ["one.png"]
    assert got[0].source == f"hotfolder:{folder}"
    # It ended at the first poll 0.6 s after the file was taken, not later.
    interval = max(SETTLE / 3, 0.05)
    assert 0.6 <= now[0] - h.last_change < 0.6 + interval + 1e-9


def test_capture_cancelled_raises(dirs: tuple[Path, Path, Path]) -> None:
    folder, state, dest = dirs
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        list(hot(folder, state).capture(ScanProfile("a0", "A0"), dest, token))
