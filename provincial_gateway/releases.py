"""Published installers (the update channel): stored in the blob store, one row each with
the version, platform, size, SHA-256 and the province's signature.

The gateway never holds the release private key in a real deployment: the province signs
the installer offline (`release-key sign`) and publishes the signature with it. For a
training room or a test the reference gateway may sign on the spot (`--sign-key`).
Downloading goes through the blob route (`GET /api/v1/blobs/{sha256}`, HTTP Range): any
station of any agency may fetch a published installer, and nothing else that way."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from packaging.version import InvalidVersion, Version
from sqlalchemy import select

from provincial_gateway.blobstore import READ_CHUNK
from provincial_gateway.db import Blob, Release, utcnow
from provincial_gateway.dossiers import retrying
from provincial_gateway.state import GatewayState
from sync_contract import release_manifest as rm
from sync_contract import wire

log = logging.getLogger("provincial_gateway")

INSTALLER_MEDIA_TYPE = "application/octet-stream"
_EXTENSIONS = {".exe": "windows", ".deb": "linux-deb"}


class ReleaseError(ValueError):
    """A refused publication, with a Vietnamese message."""


@dataclass(frozen=True)
class Published:
    version: str
    platform: str
    sha256: str
    size: int
    signature: str
    filename: str
    published_at: datetime

    def manifest(self) -> rm.UpdateManifest:
        return rm.UpdateManifest(
            product=rm.PRODUCT, version=self.version, platform=self.platform,  # type: ignore[arg-type]
            sha256=self.sha256, size=self.size, signature=self.signature,
            filename=self.filename,
            published_at=self.published_at.replace(tzinfo=UTC).isoformat(timespec="seconds"),
            download_path=wire.BLOB.format(sha256=self.sha256))


def _row(r: Release) -> Published:
    return Published(r.version, r.platform, r.sha256, r.size, r.signature, r.filename,
                     r.published_at)


def check_version(version: str) -> str:
    value = version.strip()
    try:
        Version(value)
    except InvalidVersion as exc:
        raise ReleaseError(f"Phiên bản “{value}” không hợp lệ (ví dụ 1.2.0).") from exc
    if not re.match(rm.VERSION_PATTERN, value):
        raise ReleaseError(f"Phiên bản “{value}” phải có dạng số như 1.2.0 (hoặc 1.2.0rc1).")
    return value


def platform_for(installer: Path, platform: str | None) -> str:
    if platform:
        if platform not in rm.PLATFORMS:
            raise ReleaseError(f"Nền tảng phải là một trong: {', '.join(rm.PLATFORMS)}.")
        return platform
    guessed = _EXTENSIONS.get(installer.suffix.lower())
    if guessed is None:
        raise ReleaseError("Không đoán được nền tảng từ tên tệp; hãy ghi --platform "
                           "windows hoặc --platform linux-deb.")
    return guessed


# --- keys ---------------------------------------------------------------------------------


def new_release_key(out_dir: Path) -> tuple[Path, Path, str]:
    """A new Ed25519 keypair: ``release-key.pem`` (PKCS#8, mode 0600) and
    ``release-public-key.txt``; returns both paths and the public key's text."""
    out_dir.mkdir(parents=True, exist_ok=True)
    private = out_dir / "release-key.pem"
    if private.exists():
        raise ReleaseError(f"Đã có khóa {private}; không ghi đè (hãy chọn thư mục khác).")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(private, 0o600)  # whatever the umask
    text = rm.public_key_text(key)
    public = out_dir / "release-public-key.txt"
    public.write_text(text + "\n", encoding="ascii")
    return private, public, text


def load_release_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ReleaseError(f"Không đọc được khóa phát hành {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} không phải khóa Ed25519.")
    return key


def file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(READ_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def sign_installer(installer: Path, version: str, platform: str | None,
                   key: Ed25519PrivateKey) -> tuple[str, str]:
    """(platform, base64 signature) of ``installer`` as ``version``."""
    version = check_version(version)
    platform = platform_for(installer, platform)
    sha, size = file_digest(installer)
    return platform, rm.sign(key, version, platform, sha, size)


# --- publishing ---------------------------------------------------------------------------


def publish(state: GatewayState, installer: Path, version: str, *, signature: str,
            platform: str | None = None, public_key: str = "") -> Published:
    """Copy ``installer`` into the blob store and record it. With ``public_key`` (the
    province's, ``ed25519:…``) the signature is checked first, so a wrong SIG_FILE is
    caught here rather than refused by every counter."""
    version = check_version(version)
    platform = platform_for(installer, platform)
    try:
        raw = rm.decode_signature(signature)
    except ValueError as exc:
        raise ReleaseError("Tệp chữ ký không hợp lệ (cần chữ ký Ed25519 dạng base64).") from exc
    sig = base64.b64encode(raw).decode()
    if not installer.is_file():
        raise ReleaseError(f"Không tìm thấy bộ cài {installer}.")
    # Copy first, hash the copy: what is served is exactly what was hashed.
    tmp = state.blobs.scratch_file("release")
    h = hashlib.sha256()
    size = 0
    with installer.open("rb") as src, tmp.open("wb") as dst:
        while chunk := src.read(READ_CHUNK):
            h.update(chunk)
            size += len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    sha = h.hexdigest()
    if size == 0:
        tmp.unlink(missing_ok=True)
        raise ReleaseError("Bộ cài rỗng.")
    if public_key:
        manifest = rm.UpdateManifest(version=version, platform=platform,  # type: ignore[arg-type]
                                     sha256=sha, size=size, signature=sig,
                                     download_path="-")
        if not rm.verify(public_key, manifest):
            tmp.unlink(missing_ok=True)
            raise ReleaseError("Chữ ký không khớp với bộ cài, phiên bản và nền tảng này theo "
                               "khóa công khai đã cho; chưa công bố.")
    state.blobs.put_file(tmp, sha)

    def record() -> Published:
        with state.sessions.begin() as s:
            taken = s.scalar(select(Release).where(Release.platform == platform,
                                                   Release.version == version))
            if taken is not None:
                if taken.sha256 == sha and taken.signature == sig:
                    return _row(taken)  # the same publication again: nothing changes
                raise ReleaseError(f"Phiên bản {version} cho {platform} đã được công bố với "
                                   "bộ cài khác; hãy công bố một phiên bản mới hơn.")
            if s.get(Blob, sha) is None:
                s.add(Blob(sha256=sha, size=size, media_type=INSTALLER_MEDIA_TYPE))
            row = Release(product=rm.PRODUCT, version=version, platform=platform,
                          sha256=sha, size=size, signature=sig, filename=installer.name[:200],
                          published_at=utcnow())
            s.add(row)
            s.flush()
            return _row(row)

    published = retrying(record)
    log.info("release published: %s %s (%d bytes, sha256 %s)", platform, version, size,
             sha[:12])
    return published


def latest(state: GatewayState, platform: str) -> Published | None:
    """The highest version published for ``platform`` (PEP 440 order, not publication
    order: republishing an old one never downgrades anybody)."""
    with state.sessions() as s:
        rows = [_row(r) for r in s.scalars(select(Release).where(Release.platform == platform))]
    return max(rows, key=lambda r: Version(r.version), default=None)


def is_release_blob(state: GatewayState, sha256: str) -> bool:
    with state.sessions() as s:
        return s.scalar(select(Release.id).where(Release.sha256 == sha256).limit(1)) is not None


def list_releases(state: GatewayState) -> list[Published]:
    with state.sessions() as s:
        rows = [_row(r) for r in s.scalars(select(Release).order_by(Release.published_at))]
    return rows
