"""Resumable file upload with the tus 1.0 protocol (creation + checksum extensions).

Why not tuspy's uploader: tuspy 1.1 sends its requests without any timeout (a PATCH over
a link that stalls for hours then hangs the worker forever) and turns a CA bundle path
into ``verify=True`` (the provincial CA would be ignored). This client is the same
protocol on the connector's ``requests.Session``, with timeouts, the station's TLS
settings, a cancel check and progress between chunks; its interoperability with tuspy is
covered by the gateway's tests."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from desktop_app.sync.client import GatewayClient, LinkDown, Refused, ServerBusy, SyncError
from sync_contract import wire

log = logging.getLogger(__name__)

# 128 KiB is 4 s on a 256 kbit/s link: a cut costs at most that much again, and the round
# trip per chunk (~0.3 s) keeps goodput near 92 % (64 KiB measured 86 %, 256 KiB 95 %).
DEFAULT_CHUNK = 128 * 1024
# On a faster link a fixed 128 KiB chunk is mostly round trip (at 1 Mbit/s the A0 bench
# measured 79 % of the link): chunks then grow to about CHUNK_TARGET_S of sending each,
# so a cut still costs at most a few seconds, up to MAX_CHUNK. They never go below the
# starting size, so the commune link behaves as above.
CHUNK_TARGET_S = 4.0
MAX_CHUNK = 8 * 1024 * 1024
_CHUNK_STEP = 16 * 1024

ProgressFn = Callable[[int, int], None]


class UploadCancelled(SyncError):
    pass


@dataclass
class UploadResult:
    url: str
    sent_bytes: int  # bytes this call put on the wire (re-sent bytes included)
    resumed_from: int


def _metadata(sha256: str, filename: str, media_type: str) -> str:
    pairs = {"sha256": sha256, "filename": filename or sha256, "media_type": media_type}
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs.items())


def next_chunk_size(current: int, sent: int, elapsed_s: float, floor: int,
                    ceiling: int) -> int:
    """The next PATCH size after ``sent`` bytes took ``elapsed_s`` (round trip included,
    so the rate is underestimated a little): about CHUNK_TARGET_S of sending, at most
    twice the current size, within [floor, ceiling]."""
    rate = sent / max(elapsed_s, 1e-3)
    want = min(int(rate * CHUNK_TARGET_S), 2 * current, ceiling)
    return max(floor, want - want % _CHUNK_STEP)


class TusUploader:
    def __init__(self, client: GatewayClient, chunk_size: int = DEFAULT_CHUNK,
                 max_chunk_size: int | None = MAX_CHUNK) -> None:
        """``chunk_size`` is the first (and smallest) PATCH; with ``max_chunk_size`` None
        every PATCH has that size."""
        self.client = client
        self.chunk_size = chunk_size
        self.max_chunk_size = max_chunk_size
        self.headers = {"Tus-Resumable": wire.TUS_VERSION}

    def _path(self, url: str) -> str:
        """Upload URLs are absolute; requests go through the client's base URL so a
        gateway behind a proxy that rewrote the host still gets them."""
        base = self.client.base_url
        marker = wire.FILES
        i = url.find(marker)
        return url[i:] if i >= 0 else url.removeprefix(base)

    def create(self, size: int, sha256: str, filename: str, media_type: str) -> str:
        resp = self.client.request(
            "POST", wire.FILES,
            headers={**self.headers, "Upload-Length": str(size),
                     "Upload-Metadata": _metadata(sha256, filename, media_type)})
        location = resp.headers.get("Location", "")
        if resp.status_code != 201 or not location:
            if resp.status_code == 201:
                raise LinkDown("Hệ thống tỉnh trả lời thiếu địa chỉ tải tệp; sẽ thử lại.",
                               "tus create: 201 without Location")
            raise self.client._fail(resp, "tus create")
        return location

    def offset(self, url: str) -> int | None:
        """The server's offset, or None when the upload is gone (expired or discarded)."""
        resp = self.client.request("HEAD", self._path(url), headers=self.headers)
        if resp.status_code in (404, 410):
            return None
        if resp.status_code != 200 or "Upload-Offset" not in resp.headers:
            if resp.status_code == 200:
                raise LinkDown("Câu trả lời tải tệp không đúng giao thức; sẽ thử lại.",
                               "tus HEAD without Upload-Offset (captive portal?)")
            raise self.client._fail(resp, "tus HEAD")
        return int(resp.headers["Upload-Offset"])

    def upload(self, source: Path | BinaryIO, sha256: str, *, filename: str = "",
               media_type: str = "application/pdf", url: str = "",
               on_url: Callable[[str], None] | None = None,
               progress: ProgressFn | None = None,
               cancelled: Callable[[], bool] = lambda: False) -> UploadResult:
        """Send ``source`` (a file, or a seekable reader such as the blob store's
        decrypting one; its SHA-256 is ``sha256``), resuming ``url`` when given.
        ``on_url`` is called with a new upload URL before any byte is sent, so the
        caller can store it durably and resume after a crash."""
        if isinstance(source, Path):
            with source.open("rb") as f:
                return self.upload(f, sha256, filename=filename, media_type=media_type,
                                   url=url, on_url=on_url, progress=progress,
                                   cancelled=cancelled)
        f = source
        size = f.seek(0, io.SEEK_END)
        offset: int | None = None
        if url:
            offset = self.offset(url)
            if offset is None:
                log.info("upload %s expired on the gateway; starting again", url)
        if offset is None:
            url = self.create(size, sha256, filename, media_type)
            if on_url:
                on_url(url)
            offset = 0
        resumed_from = offset
        sent = 0
        step = self.chunk_size
        while offset < size:
            if cancelled():
                raise UploadCancelled("Đã dừng gửi tệp.", f"upload {sha256} cancelled")
            f.seek(offset)
            chunk = f.read(step)
            digest = base64.b64encode(hashlib.sha256(chunk).digest()).decode()
            headers = {**self.headers, "Upload-Offset": str(offset),
                       "Content-Type": "application/offset+octet-stream",
                       "Upload-Checksum": f"sha256 {digest}"}
            started = time.monotonic()
            try:
                resp = self.client.request("PATCH", self._path(url), data=chunk,
                                           headers=headers)
            finally:
                sent += len(chunk)
            if resp.status_code == 409:
                # Offsets disagree (an earlier PATCH landed after all): ask, go on.
                server = self.offset(url)
                if server is None:
                    raise ServerBusy("Tệp tải dở đã hết hạn trên máy chủ; sẽ gửi lại.",
                                     f"upload {url} vanished")
                offset = server
                continue
            if resp.status_code == 460:
                body = _safe_json(resp)
                if body.get("code") == wire.E_CHECKSUM and offset + len(chunk) >= size:
                    raise Refused("Tệp gửi lên không khớp mã kiểm tra; sẽ gửi lại từ đầu.",
                                  f"upload {sha256}: whole-file checksum mismatch",
                                  460, body)
                continue  # a chunk damaged in transit: send it again
            if resp.status_code != 204 or "Upload-Offset" not in resp.headers:
                if resp.status_code == 204:
                    raise LinkDown("Câu trả lời tải tệp không đúng giao thức.",
                                   "tus PATCH 204 without Upload-Offset")
                raise self.client._fail(resp, "tus PATCH")
            new_offset = int(resp.headers["Upload-Offset"])
            if new_offset <= offset:
                raise LinkDown("Máy chủ không nhận thêm dữ liệu; sẽ thử lại.",
                               f"tus PATCH did not advance ({offset} -> {new_offset})")
            if self.max_chunk_size and new_offset - offset == len(chunk):
                step = next_chunk_size(step, len(chunk), time.monotonic() - started,
                                       self.chunk_size, self.max_chunk_size)
            offset = new_offset
            if progress:
                progress(offset, size)
        return UploadResult(url, sent, resumed_from)


def _safe_json(resp: object) -> dict[str, object]:
    try:
        data = resp.json()  # type: ignore[attr-defined]
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
