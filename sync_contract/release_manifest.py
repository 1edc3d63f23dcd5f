"""Software updates delivered over the province's link: the manifest the gateway serves
and the signature that binds it.

The province signs each installer with its release key (Ed25519) over the canonical
manifest: UTF-8 JSON of ``{"platform", "product", "sha256", "size", "version"}`` with sorted
keys and no spaces. The signature therefore binds the version, the platform and the
installer's hash: the gateway cannot relabel an old installer as new, offer a Windows
installer to a Debian PC, or swap the file. A counter holds only the public key (from its
provisioning file) and verifies before anything is offered for installation.

`GET UPDATES_LATEST?platform=…` (station token) answers `UpdateManifest` or 404
`no_update`; the installer is downloaded from `download_path` (the blob route, which
honours HTTP `Range`, so a cut download resumes where it stopped).

Imports nothing of the project (see the package's docstring)."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field

PRODUCT = "motcua-offline"
PLATFORMS = ("windows", "linux-deb")
Platform = Literal["windows", "linux-deb"]
UPDATES_LATEST = "/api/v1/updates/latest"
E_NO_UPDATE = "no_update"
PUBLIC_KEY_PREFIX = "ed25519:"
SIGNATURE_BYTES = 64
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# A version as packaging parses it (PEP 440), kept simple on the wire: 1.2.3, 1.2.3rc1.
VERSION_PATTERN = r"^[0-9]+(\.[0-9]+){1,3}([a-z]+[0-9]*)?(\.(post|dev)[0-9]+)?$"


class UpdateManifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    product: str = PRODUCT
    version: str = Field(pattern=VERSION_PATTERN, max_length=40)
    platform: Platform
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(gt=0)
    signature: str = Field(max_length=200, description="base64 Ed25519 signature of "
                           "the canonical manifest")
    filename: str = Field(default="", max_length=200)
    published_at: str = ""  # ISO 8601, UTC
    download_path: str = Field(max_length=300, description="GET it with the station token; "
                               "HTTP Range supported")


def canonical(version: str, platform: str, sha256: str, size: int,
              product: str = PRODUCT) -> bytes:
    """The exact bytes the release key signs."""
    return json.dumps({"platform": platform, "product": product, "sha256": sha256,
                       "size": int(size), "version": version},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(key: Ed25519PrivateKey, version: str, platform: str, sha256: str, size: int) -> str:
    """The base64 signature (the text a SIG_FILE holds)."""
    return base64.b64encode(key.sign(canonical(version, platform, sha256, size))).decode()


def decode_signature(text: str | bytes) -> bytes:
    """A signature as base64 or hex text, or the 64 raw bytes; ValueError otherwise."""
    if isinstance(text, bytes):
        if len(text) == SIGNATURE_BYTES:
            return text
        text = text.decode("ascii", "replace")
    value = text.strip()
    raw = b""
    if re.fullmatch(r"[0-9a-fA-F]{128}", value):
        raw = bytes.fromhex(value)
    else:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != SIGNATURE_BYTES:
        raise ValueError("not an Ed25519 signature (64 bytes as base64 or hex)")
    return raw


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """``ed25519:<64 hex>``: the form the provisioning file's ``release_public_key`` takes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return PUBLIC_KEY_PREFIX + public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def parse_public_key(text: str) -> str:
    """The 64 lower-case hex digits of ``ed25519:<hex>`` (or bare hex); ValueError when it
    is not a usable Ed25519 public key."""
    value = text.strip().lower().removeprefix(PUBLIC_KEY_PREFIX)
    if not _HEX64.match(value):
        raise ValueError("expected ed25519: followed by 64 hexadecimal digits")
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(value))  # a valid curve point
    return value


def verify(public_hex: str, manifest: UpdateManifest, sha256: str | None = None,
           size: int | None = None) -> bool:
    """Does the manifest's signature verify under the province's key, over its version,
    platform and (when given: the downloaded file's) hash and size?"""
    try:
        signature = decode_signature(manifest.signature)
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(parse_public_key(public_hex)))
        key.verify(signature, canonical(manifest.version, manifest.platform,
                                        sha256 or manifest.sha256,
                                        manifest.size if size is None else size,
                                        manifest.product))
    except (InvalidSignature, ValueError):
        return False
    return True
