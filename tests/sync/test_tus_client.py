"""The station's tus client: chunks grow on a fast link (a fixed 128 KiB chunk is mostly
round trip there) and stay at their floor on the commune link."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from desktop_app.sync.client import GatewayClient
from desktop_app.sync.tus_upload import (
    CHUNK_TARGET_S,
    DEFAULT_CHUNK,
    MAX_CHUNK,
    TusUploader,
    next_chunk_size,
)
from provincial_gateway.server import GatewayServer

KiB = 1024


def test_next_chunk_size_follows_the_link() -> None:
    # The commune link, 256 kbit/s with a 300 ms round trip: 128 KiB takes ~4.4 s.
    commune = next_chunk_size(DEFAULT_CHUNK, DEFAULT_CHUNK, 4.4, DEFAULT_CHUNK, MAX_CHUNK)
    assert commune == DEFAULT_CHUNK
    # Four times faster: grows, at most doubling per PATCH.
    assert next_chunk_size(DEFAULT_CHUNK, DEFAULT_CHUNK, 1.3, DEFAULT_CHUNK,
                           MAX_CHUNK) == 2 * DEFAULT_CHUNK
    # Settles near CHUNK_TARGET_S of sending: 1 Mbit/s -> about 450-500 KiB.
    settled = next_chunk_size(512 * KiB, 512 * KiB, 512 * KiB / (125_000) + 0.3,
                              DEFAULT_CHUNK, MAX_CHUNK)
    assert 400 * KiB <= settled <= 500 * KiB
    assert settled * 8 / 1_000_000 <= CHUNK_TARGET_S
    # A link that slows down shrinks it at once: to ~4 s of the new rate, never below
    # the floor.
    assert next_chunk_size(4 * 1024 * KiB, 4 * 1024 * KiB, 60.0, DEFAULT_CHUNK,
                           MAX_CHUNK) == 272 * KiB
    assert next_chunk_size(4 * 1024 * KiB, 4 * 1024 * KiB, 200.0, DEFAULT_CHUNK,
                           MAX_CHUNK) == DEFAULT_CHUNK
    # Never past the ceiling.
    assert next_chunk_size(MAX_CHUNK, MAX_CHUNK, 0.01, DEFAULT_CHUNK, MAX_CHUNK) == MAX_CHUNK


class CountingClient(GatewayClient):
    """The real client over loopback HTTP, noting the size of each PATCH it sends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.patches: list[int] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "PATCH":
            self.patches.append(len(kwargs.get("data") or b""))
        return super().request(method, path, **kwargs)


def _upload(gateway: GatewayServer, token: str, path: Path,
            max_chunk: int | None) -> tuple[list[int], str]:
    client = CountingClient(gateway.url, token)
    try:
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        TusUploader(client, DEFAULT_CHUNK, max_chunk).upload(path, sha, filename=path.name)
        return client.patches, sha
    finally:
        client.close()


def test_chunks_grow_on_a_fast_link_and_the_file_arrives_whole(
        gateway: GatewayServer, station_token: str, tmp_path: Path) -> None:
    path = tmp_path / "ban-do-a0.pdf"
    path.write_bytes(os.urandom(3 * 1024 * KiB))
    patches, sha = _upload(gateway, station_token, path, MAX_CHUNK)
    assert patches[:4] == [128 * KiB, 256 * KiB, 512 * KiB, 1024 * KiB]  # loopback: fast
    assert sum(patches) == path.stat().st_size and len(patches) == 5
    stored = gateway.state.blobs.path(sha)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha

    fixed = tmp_path / "co-dinh.pdf"
    fixed.write_bytes(os.urandom(1024 * KiB))
    patches, _ = _upload(gateway, station_token, fixed, None)
    assert patches == [DEFAULT_CHUNK] * 8
