"""One hot folder watched by several counters: each scan is claimed by exactly one station
(an atomic rename into its own ``.motcua-claimed/<station>/``), a station that stops
after claiming gets its files back at its next start, and other stations leave them."""

from __future__ import annotations

import io
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from desktop_app.scanning.model import CapturedFile
from desktop_app.scanning.sources.hotfolder import (
    CLAIM_SUBDIR,
    DONE_SUBDIR,
    HotFolder,
    pending_claims,
)
from desktop_app.scanning.sources.hotfolder_journal import Journal
from tests.scanning.test_hotfolder import SETTLE, SimulatedCrash, image_bytes

pytestmark = pytest.mark.nodb

ID_A = "0a0a0a0a-1111-4111-8111-aaaaaaaaaaaa"
ID_B = "0b0b0b0b-2222-4222-8222-bbbbbbbbbbbb"


def png(n: int) -> bytes:
    """A small PNG that differs from every other ``n``."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (n % 256, (n * 7) % 256, 90)).save(out, "PNG")
    return out.getvalue()


def station(folder: Path, state: Path, install_id: str, label: str = "",
            clock: list[float] | None = None) -> HotFolder:
    kw: dict[str, object] = {"clock": (lambda: clock[0])} if clock is not None else {}
    return HotFolder(folder, state, settle_s=SETTLE, station_id=install_id,
                     station_label=label, **kw)  # type: ignore[arg-type]


@pytest.fixture
def share(tmp_path: Path) -> tuple[Path, Path]:
    folder, state = tmp_path / "scan-a0", tmp_path / "state"
    folder.mkdir()
    return folder, state


def problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def claimed_files(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / CLAIM_SUBDIR).rglob("*") if p.is_file())


def test_two_stations_polling_one_folder_take_every_file_once(
        share: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder, state = share
    data = {f"scan{n:04d}.png": png(n) for n in range(50)}
    for name, content in data.items():
        (folder / name).write_bytes(content)
    caplog.set_level(logging.INFO, logger="desktop_app.scanning.sources.hotfolder")
    stations = [station(folder, state, ID_A, "quay-1"), station(folder, state, ID_B, "quay-2")]
    got: dict[str, list[CapturedFile]] = {ID_A: [], ID_B: []}
    errors: list[BaseException] = []
    start = threading.Barrier(len(stations))

    def counter(h: HotFolder) -> None:
        try:
            dest = tmp_path / f"raw-{h.station_id[:2]}"
            start.wait()
            end = time.monotonic() + 20
            while time.monotonic() < end and any(folder.glob("*.png")):
                got[h.station_id] += h.poll(dest)
                time.sleep(0.05)
            got[h.station_id] += h.poll(dest)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=counter, args=(h,)) for h in stations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    taken = [f.original_name for files in got.values() for f in files]
    assert sorted(taken) == sorted(data)  # every file, each exactly once
    for f in (f for files in got.values() for f in files):
        assert f.path.read_bytes() == data[f.original_name]
    assert sorted(p.name for p in (folder / DONE_SUBDIR).iterdir()) == sorted(data)
    assert claimed_files(folder) == [] and pending_claims(folder) == {}
    assert problems(caplog) == []  # nothing missing, nothing reported to a technician
    journal = Journal(state / "journal.sqlite3")
    assert journal.count_done() == 50
    assert journal.unfinished(ID_A) == [] and journal.unfinished(ID_B) == []


def test_the_station_that_loses_the_race_skips_the_file_silently(
        share: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder, state = share
    for n in range(3):
        (folder / f"map{n}.png").write_bytes(png(n))
    now = [0.0]
    a, b = station(folder, state, ID_A, clock=now), station(folder, state, ID_B, clock=now)
    assert a.poll(tmp_path / "raw-a") == [] and b.poll(tmp_path / "raw-b") == []
    now[0] = 10.0  # both now see every file as settled
    won: list[CapturedFile] = []
    claim = a._claim

    def b_claims_first(path: Path, st: object) -> Path | None:
        if not won:  # B's pass runs between A's judgement and A's rename
            won.extend(b.poll(tmp_path / "raw-b"))
        return claim(path, st)  # type: ignore[arg-type]

    a._claim = b_claims_first  # type: ignore[method-assign]
    assert a.poll(tmp_path / "raw-a") == []
    assert sorted(f.original_name for f in won) == ["map0.png", "map1.png", "map2.png"]
    assert not (tmp_path / "raw-a").exists() or list((tmp_path / "raw-a").iterdir()) == []
    assert problems(caplog) == []
    assert Journal(state / "journal.sqlite3").unfinished(ID_A) == []


@pytest.mark.parametrize(("owner", "attr"), [(Journal, "claim"), (Journal, "commit"),
                                             (HotFolder, "_move_original"),
                                             (Journal, "done")])
def test_a_station_that_stops_after_claiming_recovers_its_own_claim(
        share: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, owner: object, attr: str) -> None:
    folder, state = share
    data = png(7)
    (folder / "thua-dat.png").write_bytes(data)
    now = [0.0]
    a = station(folder, state, ID_A, "quay-1", clock=now)
    assert a.poll(tmp_path / "raw-a") == []
    now[0] = 10.0

    def crash(*args: object, **kwargs: object) -> None:
        raise SimulatedCrash(attr)

    with monkeypatch.context() as m:
        m.setattr(owner, attr, crash)
        with pytest.raises(SimulatedCrash):
            a.poll(tmp_path / "raw-a")
    assert not (folder / "thua-dat.png").exists()  # claimed: out of everyone's way

    caplog.set_level(logging.INFO, logger="desktop_app.scanning.sources.hotfolder")
    b = station(folder, state, ID_B, "quay-2", clock=now)
    for _ in range(3):
        now[0] += SETTLE * 2
        assert b.poll(tmp_path / "raw-b") == []  # never B's, however long it waits
    assert not (tmp_path / "raw-b").exists() or list((tmp_path / "raw-b").iterdir()) == []
    claim_dir = f"quay-1-{ID_A}"
    left = problems(caplog)
    if attr == "done":  # the original already reached da-nhan: nothing is left claimed
        assert left == [] and pending_claims(folder) == {}
    else:
        assert len(left) == 1 and claim_dir in left[0]  # told once, for a technician
        assert list(pending_claims(folder)) == [claim_dir]

    restarted = station(folder, state, ID_A, "quay-1", clock=now)
    got = restarted.poll(tmp_path / "raw-a")  # recovery does not wait for settling
    assert [f.original_name for f in got] == ["thua-dat.png"]
    assert got[0].path.read_bytes() == data
    assert list((tmp_path / "raw-a").iterdir()) == [got[0].path]  # one copy, no temp file
    assert (folder / DONE_SUBDIR / "thua-dat.png").read_bytes() == data
    assert claimed_files(folder) == [] and pending_claims(folder) == {}
    now[0] += SETTLE * 2
    assert restarted.poll(tmp_path / "raw-a") == [] and b.poll(tmp_path / "raw-b") == []
    assert Journal(state / "journal.sqlite3").count_done() == 1


def test_claims_follow_the_install_id_when_the_station_digit_changes(
        share: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, state = share
    (folder / "a1.png").write_bytes(png(1))
    now = [0.0]
    a = station(folder, state, ID_A, "quay-1", clock=now)
    a.poll(tmp_path / "raw")
    now[0] = 10.0
    with monkeypatch.context() as m:
        m.setattr(Journal, "claim", lambda *a, **k: (_ for _ in ()).throw(SimulatedCrash()))
        with pytest.raises(SimulatedCrash):
            a.poll(tmp_path / "raw")
    renumbered = station(folder, state, ID_A, "quay-3", clock=now)
    assert [f.original_name for f in renumbered.poll(tmp_path / "raw")] == ["a1.png"]
    assert claimed_files(folder) == []


def test_a_partially_written_file_is_not_claimed(share: tuple[Path, Path],
                                                  tmp_path: Path) -> None:
    folder, state = share
    data = image_bytes("JPEG", (800, 600))
    cut, growing = folder / "cut.jpg", folder / "growing.jpg"
    cut.write_bytes(data[: len(data) // 2])  # stable, but the scanner has not finished it
    stations = [station(folder, state, ID_A), station(folder, state, ID_B)]
    done = threading.Event()

    def writer() -> None:
        step = len(data) // 8 + 1
        with growing.open("wb") as f:
            for i in range(0, len(data), step):
                f.write(data[i:i + step])
                f.flush()
                time.sleep(SETTLE / 2)  # pauses shorter than the settle period
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    while not done.is_set():
        for h in stations:
            assert h.poll(tmp_path / h.station_id) == []
        assert claimed_files(folder) == [] and cut.exists()
        time.sleep(0.03)
    t.join()
    got: list[CapturedFile] = []
    end = time.monotonic() + 5
    while time.monotonic() < end and not got:
        for h in stations:
            got += h.poll(tmp_path / h.station_id)
        time.sleep(0.05)
    assert [f.original_name for f in got] == ["growing.jpg"]
    assert got[0].path.read_bytes() == data
    assert cut.exists() and claimed_files(folder) == []  # still not finished: left alone


def test_a_journal_from_before_shared_folders_keeps_its_history(share: tuple[Path, Path],
                                                                tmp_path: Path) -> None:
    folder, state = share
    state.mkdir()
    old = sqlite3.connect(state / "journal.sqlite3")
    old.executescript("""
        CREATE TABLE taken (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
            size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT,
            copy_path TEXT NOT NULL, move_to TEXT,
            state TEXT NOT NULL CHECK (state IN ('claimed', 'committed', 'done')),
            claimed_at TEXT NOT NULL, done_at TEXT);
        INSERT INTO taken (name, size, mtime_ns, copy_path, state, claimed_at)
            VALUES ('kept.png', 10, 20, '/old/hf-kept.png', 'done', '2026-01-01');
        """)
    old.commit()
    old.close()
    journal = Journal(state / "journal.sqlite3")
    assert journal.seen("kept.png", 10, 20) and journal.count_done() == 1
    (folder / "new.png").write_bytes(png(3))
    h = station(folder, state, ID_A)
    got: list[CapturedFile] = []
    end = time.monotonic() + 5
    while time.monotonic() < end and not got:
        got += h.poll(tmp_path / "raw")
        time.sleep(0.05)
    assert [f.original_name for f in got] == ["new.png"] and journal.count_done() == 2


def test_the_doctor_shows_claims_left_by_a_station_that_did_not_come_back(
        share: tuple[Path, Path]) -> None:
    from desktop_app.setup.doctor_checks import STALE_CLAIM_S, Answer, check_scanners
    from desktop_app.setup.doctor_report import OK, WARN

    folder, _ = share
    gone, busy = folder / CLAIM_SUBDIR / f"quay-1-{ID_A}", folder / CLAIM_SUBDIR / ID_B
    for claim_dir, name in ((gone, "old.png"), (busy, "now.png")):
        claim_dir.mkdir(parents=True)
        (claim_dir / name).write_bytes(png(1))
    hour_ago = time.time() - STALE_CLAIM_S - 60
    os.utime(gone, (hour_ago, hour_ago))  # its last claim: long ago
    check = check_scanners(Answer(True, []), [folder])
    assert check.status == WARN
    assert f"máy quay-1-{ID_A} nhận" in check.message_vi and ID_B not in check.message_vi
    assert check.detail["pending_claims"] == {str(folder): {f"quay-1-{ID_A}": 1, ID_B: 1}}
    (gone / "old.png").rename(folder / "old.png")  # a technician gave it back
    os.utime(gone, (hour_ago, hour_ago))
    assert check_scanners(Answer(True, []), [folder]).status == OK


def test_a_folder_where_nothing_can_be_created_is_still_served_in_place(
        share: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder, state = share
    (folder / CLAIM_SUBDIR).write_bytes(b"")  # the claim directory cannot be made
    (folder / "only.png").write_bytes(png(5))
    now = [0.0]
    h = station(folder, state, ID_A, clock=now)
    assert h.poll(tmp_path / "raw") == []
    now[0] = 10.0
    got = h.poll(tmp_path / "raw")
    assert [f.original_name for f in got] == ["only.png"]
    assert (folder / DONE_SUBDIR / "only.png").exists()
    assert any("taken in place" in m for m in problems(caplog))
    now[0] = 20.0
    assert h.poll(tmp_path / "raw") == []
