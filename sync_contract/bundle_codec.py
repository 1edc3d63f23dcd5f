"""The offline USB bundle format, shared by the station (writes) and the gateway (reads).

Layout: ``MAGIC`` · 4-byte big-endian header length · header JSON · AES-256-GCM ciphertext.
The header (agency, station digit, bundle id, salt, nonce) is authenticated as associated
data. The key is derived (HKDF-SHA256) from the station's bundle key, itself derived from
the station token, which only the station and the gateway know: the GCM tag proves the
bundle came from that station unaltered (it acts as the signature), and nobody who finds
the USB stick can read the citizens' data. The plaintext is a ZIP: ``manifest.json``
(dossier documents, events, file list) and ``files/<sha256>``."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"MOTCUA-BUNDLE-1\n"
INFO = b"motcua-bundle-v1"
MAX_HEADER = 64 * 1024


class BundleError(Exception):
    """A bundle that cannot be opened: damaged, forged, or for another gateway."""


def bundle_key(token: str) -> bytes:
    """The station's bundle key (the gateway stores it at enrolment, never the token)."""
    return hashlib.sha256(INFO + token.encode()).digest()


def _derive(key: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=INFO).derive(key)


@dataclass
class BundleContents:
    agency_code: str
    station_digit: int
    bundle_id: str
    created_at: str
    dossiers: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)


def seal_bundle(contents: BundleContents, key: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:  # PDFs are compressed already
        manifest = {"dossiers": contents.dossiers, "events": contents.events,
                    "files": sorted(contents.files)}
        z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False))
        for sha, data in sorted(contents.files.items()):
            z.writestr(f"files/{sha}", data)
    salt, nonce = os.urandom(16), os.urandom(12)
    header = json.dumps({"agency_code": contents.agency_code,
                         "station_digit": contents.station_digit,
                         "bundle_id": contents.bundle_id, "created_at": contents.created_at,
                         "salt": salt.hex(), "nonce": nonce.hex()}).encode()
    prefix = MAGIC + struct.pack(">I", len(header)) + header
    return prefix + AESGCM(_derive(key, salt)).encrypt(nonce, buf.getvalue(), prefix)


def read_header(data: bytes) -> dict[str, Any]:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise BundleError("not a Một Cửa Offline bundle")
    (length,) = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])
    if length > MAX_HEADER or len(data) < len(MAGIC) + 4 + length:
        raise BundleError("truncated bundle header")
    try:
        header = json.loads(data[len(MAGIC) + 4:len(MAGIC) + 4 + length])
        header["station_digit"] = int(header["station_digit"])
        bytes.fromhex(header["salt"]), bytes.fromhex(header["nonce"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"bad bundle header: {exc}") from exc
    return dict(header)


def open_bundle(data: bytes, key_for: Callable[[str, int], bytes | None]) -> BundleContents:
    header = read_header(data)
    key = key_for(str(header["agency_code"]), header["station_digit"])
    if key is None:
        raise BundleError(f"unknown station {header['agency_code']}/{header['station_digit']}")
    prefix_len = len(MAGIC) + 4 + struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])[0]
    prefix = data[:prefix_len]
    try:
        plain = AESGCM(_derive(key, bytes.fromhex(header["salt"]))).decrypt(
            bytes.fromhex(header["nonce"]), data[prefix_len:], prefix)
    except InvalidTag as exc:
        raise BundleError("bundle damaged or not made by this station") from exc
    out = BundleContents(str(header["agency_code"]), header["station_digit"],
                         str(header["bundle_id"]), str(header.get("created_at", "")))
    try:
        with zipfile.ZipFile(io.BytesIO(plain)) as z:
            manifest = json.loads(z.read("manifest.json"))
            out.dossiers = list(manifest.get("dossiers", []))
            out.events = list(manifest.get("events", []))
            for sha in manifest.get("files", []):
                blob = z.read(f"files/{sha}")
                if hashlib.sha256(blob).hexdigest() != sha:
                    raise BundleError(f"file {sha} does not match its hash")
                out.files[sha] = blob
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BundleError(f"bad bundle content: {exc}") from exc
    return out
