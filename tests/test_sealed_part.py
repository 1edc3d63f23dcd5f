"""Resumable downloads sealed chunk by chunk (desktop_app.sealed_part)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from desktop_app.sealed_part import SealedPart, SealedPartError

pytestmark = pytest.mark.nodb

KEY = secrets.token_bytes(32)
SHA = "ab" * 32


def _filled(path: Path, chunks: list[bytes], sha: str = SHA) -> SealedPart:
    part = SealedPart(path, KEY, sha)
    for c in chunks:
        part.append(c)
    return part


def test_chunks_come_back_in_order_and_nothing_is_plaintext(tmp_path: Path) -> None:
    chunks = [b"Nguyen Thi Anh Tuyet 019190001234 " * 100, b"x" * 70_000, b""]
    part = _filled(tmp_path / "p.part", chunks)
    assert part.size() == sum(map(len, chunks))
    assert b"".join(part.plaintext()) == b"".join(chunks)
    assert b"019190001234" not in part.path.read_bytes()
    # A new handle on the same file (after a restart) appends after what is there.
    again = SealedPart(part.path, KEY, SHA)
    again.append(b"tail")
    assert b"".join(again.plaintext()).endswith(b"tail")


def test_a_torn_record_is_cut_off(tmp_path: Path) -> None:
    part = _filled(tmp_path / "p.part", [b"a" * 1000, b"b" * 1000])
    whole = part.path.read_bytes()
    part.path.write_bytes(whole + whole[:700])  # power cut in the middle of an append
    assert SealedPart(part.path, KEY, SHA).size() == 2000
    assert part.path.read_bytes() == whole


def test_reordered_records_or_another_files_part_do_not_decrypt(tmp_path: Path) -> None:
    part = _filled(tmp_path / "p.part", [b"first", b"second"])
    raw = part.path.read_bytes()
    first_len = 4 + int.from_bytes(raw[:4], "big")
    part.path.write_bytes(raw[first_len:] + raw[:first_len])  # records swapped
    with pytest.raises(SealedPartError):
        list(SealedPart(part.path, KEY, SHA).plaintext())
    other = _filled(tmp_path / "q.part", [b"first"])
    with pytest.raises(SealedPartError):  # the same bytes read as another file's part
        list(SealedPart(other.path, KEY, "cd" * 32).plaintext())
