"""The offline USB bundle format, shared by the station (writes) and the gateway (reads).

A bundle is an age file (X25519) sealed to the province's recipient, so only the gateway
holding the matching identity reads it. Its plaintext is a stream:

``MAGIC`` · 4-byte big-endian manifest length · manifest JSON · 64-byte Ed25519 signature
of the manifest · then each member's bytes, in manifest order, exactly its declared size.

The manifest names the station, the signing key, the bundle id, the creation time and
every member (name, size, SHA-256); the station signs it with its own key, registered
with the gateway, so the signature covers every byte that follows. Nothing derives from
the station token: a re-issued token leaves older bundles readable, and the gateway's
database holds nothing that could forge or open a bundle.

Both directions stream: the writer pulls members through file objects, the reader is a
push parser fed by the decryptor that checks each member against its declared size and
hash as the bytes arrive, so neither side holds a member, let alone a bundle, in memory."""

from __future__ import annotations

import hashlib
import io
import json
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAGIC = b"MOTCUA-BUNDLE-2\n"
OLD_MAGIC = b"MOTCUA-BUNDLE-1\n"  # unsigned, token-derived key: refused
AGE_MAGIC = b"age-encryption.org/"
FORMAT = 2
SIGNATURE_CONTEXT = b"motcua-usb-bundle-v2\x00"  # the signature is for nothing else
SIGNATURE_BYTES = 64
MAX_MANIFEST = 16 * 1024 * 1024
MAX_MEMBERS = 200_000
DOSSIERS = "dossiers.json"
EVENTS = "events.json"
FILE_PREFIX = "files/"
CHUNK = 1024 * 1024
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEAD = len(MAGIC) + 4


class BundleError(Exception):
    """A bundle that cannot be opened (the subclass says why)."""


class MalformedBundle(BundleError):
    """Damaged, truncated, a bad manifest, or a member that does not match it."""


class OldFormatBundle(BundleError):
    """A version-1 bundle (token-derived key, no signature)."""


class OtherProvinceBundle(BundleError):
    """Sealed to a recipient this gateway holds no identity for."""


class SignatureRefused(BundleError):
    """Unknown station or key, or a signature that does not verify."""


class OverLimit(BundleError):
    """A member or the whole bundle is larger than the reader accepts."""


class StoreFailed(Exception):
    """Writing a member out failed on the reader's side (disk full…): not the bundle's fault."""


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    bundle_id: str
    agency_code: str
    station_digit: int
    created_at: str
    signing_key: str  # hex Ed25519 public key
    members: tuple[Member, ...]

    @property
    def total_bytes(self) -> int:
        return sum(m.size for m in self.members)

    def encode(self) -> bytes:
        return json.dumps({
            "format": FORMAT, "bundle_id": self.bundle_id, "agency_code": self.agency_code,
            "station_digit": self.station_digit, "created_at": self.created_at,
            "signing_key": self.signing_key,
            "members": [{"name": m.name, "size": m.size, "sha256": m.sha256}
                        for m in self.members]}, ensure_ascii=False).encode("utf-8")


def sealed_size_limit(member_bytes: int) -> int:
    """The largest sealed bundle whose members total ``member_bytes``: the members, the
    manifest and signature, age's 16-byte tag per 64 KiB chunk, and its header."""
    return member_bytes + MAX_MANIFEST + member_bytes // 4096 + 64 * 1024


def file_member_name(sha256: str) -> str:
    return FILE_PREFIX + sha256


def public_key_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign_manifest(raw: bytes, key: Ed25519PrivateKey) -> bytes:
    return key.sign(SIGNATURE_CONTEXT + raw)


def signature_valid(raw: bytes, signature: bytes, public_hex: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(
            signature, SIGNATURE_CONTEXT + raw)
    except (InvalidSignature, ValueError):
        return False
    return True


def _field(doc: dict[str, Any], name: str, kind: type) -> Any:
    value = doc.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise MalformedBundle(f"manifest field {name!r} missing or not {kind.__name__}")
    return value


def parse_manifest(raw: bytes) -> Manifest:
    """The manifest, strictly checked (a reader must never trust its shape)."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBundle(f"manifest is not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MalformedBundle("manifest is not a format-2 object")
    signing_key = _field(doc, "signing_key", str)
    if not _HEX64.match(signing_key):
        raise MalformedBundle("manifest signing_key is not 64 hex digits")
    entries = _field(doc, "members", list)
    if len(entries) > MAX_MEMBERS:
        raise MalformedBundle(f"manifest lists {len(entries)} members (max {MAX_MEMBERS})")
    members: list[Member] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedBundle("manifest member is not an object")
        member = Member(_field(entry, "name", str), _field(entry, "size", int),
                        _field(entry, "sha256", str))
        if member.size < 0 or not _HEX64.match(member.sha256):
            raise MalformedBundle(f"member {member.name[:80]!r}: bad size or sha256")
        if member.name not in (DOSSIERS, EVENTS) and member.name != file_member_name(
                member.sha256):
            raise MalformedBundle(f"member name {member.name[:80]!r} not allowed")
        if member.name in seen:
            raise MalformedBundle(f"member {member.name[:80]!r} listed twice")
        seen.add(member.name)
        members.append(member)
    digit = _field(doc, "station_digit", int)
    if not 1 <= digit <= 9:
        raise MalformedBundle("manifest station_digit out of range")
    return Manifest(_field(doc, "bundle_id", str)[:100], _field(doc, "agency_code", str)[:40],
                    digit, _field(doc, "created_at", str)[:40], signing_key, tuple(members))


# --- writing ---------------------------------------------------------------------------

Opener = Callable[[], BinaryIO]


def plaintext_chunks(raw_manifest: bytes, signature: bytes,
                     members: Sequence[tuple[Member, Opener]]) -> Iterator[bytes]:
    """The plaintext stream. A member whose bytes are not what the manifest says (changed
    on disk meanwhile) stops the export rather than produce a bundle the gateway refuses."""
    yield MAGIC + struct.pack(">I", len(raw_manifest)) + raw_manifest + signature
    for member, open_member in members:
        digest, seen = hashlib.sha256(), 0
        with open_member() as f:
            while chunk := f.read(min(CHUNK, member.size - seen + 1)):
                seen += len(chunk)
                if seen > member.size:
                    break
                digest.update(chunk)
                yield chunk
        if seen != member.size or digest.hexdigest() != member.sha256:
            raise BundleError(f"{member.name} does not match its size or hash")


class _ChunkReader(io.RawIOBase):
    """A readable file over an iterator of chunks (what the age encryptor pulls from)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._left = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._left:
            try:
                self._left = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def seal(chunks: Iterable[bytes], recipient: str, out: BinaryIO) -> None:
    """Encrypt the plaintext stream to ``recipient`` (an ``age1…`` string) into ``out``."""
    try:
        to = pyrage.x25519.Recipient.from_str(recipient)
    except pyrage.RecipientError as exc:
        raise BundleError(f"bad province recipient: {exc}") from exc
    pyrage.encrypt_io(_ChunkReader(chunks), out, [to])


def write_bundle(out: BinaryIO, *, bundle_id: str, agency_code: str, station_digit: int,
                 created_at: str, members: Sequence[tuple[Member, Opener]],
                 signing_key: Ed25519PrivateKey, recipient: str) -> Manifest:
    manifest = Manifest(bundle_id, agency_code, station_digit, created_at,
                        public_key_hex(signing_key), tuple(m for m, _ in members))
    raw = manifest.encode()
    seal(plaintext_chunks(raw, sign_manifest(raw, signing_key), members), recipient, out)
    return manifest


def bytes_member(name: str, data: bytes) -> tuple[Member, Opener]:
    return Member(name, len(data), hashlib.sha256(data).hexdigest()), lambda: io.BytesIO(data)


# --- reading ---------------------------------------------------------------------------

class MemberSink(Protocol):
    def write(self, data: memoryview) -> object: ...

    def close(self) -> None: ...


class BundleParser(io.RawIOBase):
    """Where the decryptor writes the plaintext. ``check`` gets the manifest, its raw bytes
    and the signature before any member byte is accepted (it verifies the signature and
    the limits, or raises); ``open_member`` gives the sink of each member in turn. A member
    is hashed as it arrives and checked the moment its declared size is reached, so bytes
    beyond what the signed manifest declares are never stored."""

    def __init__(self, check: Callable[[Manifest, bytes, bytes], None],
                 open_member: Callable[[Member], MemberSink]) -> None:
        self._check = check
        self._open = open_member
        self._head = bytearray()
        self._need = _HEAD
        self.manifest: Manifest | None = None
        self._index = -1
        self._left = 0
        self._digest = hashlib.sha256()
        self._sink: MemberSink | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        if self.manifest is None:
            view = self._take_head(view)
        while view and self.manifest is not None:
            if self._sink is None and not self._next_member():
                raise MalformedBundle("data after the last member")
            take = min(len(view), self._left)
            self._digest.update(view[:take])
            try:
                assert self._sink is not None
                self._sink.write(view[:take])
            except OSError as exc:
                raise StoreFailed(str(exc)) from exc
            self._left -= take
            view = view[take:]
            if not self._left:
                self._end_member()
        return size

    def _take_head(self, view: memoryview) -> memoryview:
        take = min(len(view), self._need - len(self._head))
        self._head += view[:take]
        view = view[take:]
        if len(self._head) == _HEAD and self._need == _HEAD:
            if not self._head.startswith(MAGIC):
                raise MalformedBundle("plaintext does not start with the bundle magic")
            (length,) = struct.unpack(">I", self._head[len(MAGIC):])
            if length > MAX_MANIFEST:
                raise MalformedBundle(f"manifest of {length} bytes (max {MAX_MANIFEST})")
            self._need = _HEAD + length + SIGNATURE_BYTES
            return self._take_head(view) if view else view
        if len(self._head) == self._need and self._need > _HEAD:
            raw = bytes(self._head[_HEAD:self._need - SIGNATURE_BYTES])
            signature = bytes(self._head[self._need - SIGNATURE_BYTES:])
            manifest = parse_manifest(raw)
            self._check(manifest, raw, signature)
            self.manifest = manifest
            self._head = bytearray()
            self._start_empty_members()
        return view

    def _next_member(self) -> bool:
        assert self.manifest is not None
        if self._index + 1 >= len(self.manifest.members):
            return False
        self._index += 1
        member = self.manifest.members[self._index]
        self._left, self._digest = member.size, hashlib.sha256()
        try:
            self._sink = self._open(member)
        except OSError as exc:
            raise StoreFailed(str(exc)) from exc
        return True

    def _start_empty_members(self) -> None:
        assert self.manifest is not None
        members = self.manifest.members
        while self._index + 1 < len(members) and members[self._index + 1].size == 0:
            self._next_member()
            self._end_member()

    def _end_member(self) -> None:
        assert self.manifest is not None and self._sink is not None
        member = self.manifest.members[self._index]
        if self._digest.hexdigest() != member.sha256:
            raise MalformedBundle(f"member {member.name} does not match its SHA-256")
        try:
            self._sink.close()
        except OSError as exc:
            raise StoreFailed(str(exc)) from exc
        self._sink = None
        self._start_empty_members()

    def finish(self) -> Manifest:
        """After the decryptor is done: everything the manifest declared has arrived."""
        if self.manifest is None or self._sink is not None or (
                self._index + 1 < len(self.manifest.members)):
            raise MalformedBundle("bundle ends before the last member")
        return self.manifest


def open_bundle(source: BinaryIO, identities: Sequence[str], parser: BundleParser
                ) -> Manifest:
    """Decrypt ``source`` (seekable) into ``parser``. The age stream authenticates every
    64 KiB chunk and detects truncation at the end, so a reader commits nothing before
    this returns."""
    head = source.read(len(AGE_MAGIC))
    if head.startswith(OLD_MAGIC):
        raise OldFormatBundle("version-1 bundle (unsigned)")
    if head != AGE_MAGIC:
        raise MalformedBundle("not a Một Cửa Offline bundle")
    source.seek(0)
    keys = [pyrage.x25519.Identity.from_str(i) for i in identities]
    try:
        pyrage.decrypt_io(source, parser, keys)
    except pyrage.DecryptError as exc:
        if "No matching keys" in str(exc):
            raise OtherProvinceBundle(str(exc)) from exc
        raise MalformedBundle(f"cannot decrypt: {exc}") from exc
    except OSError as exc:  # the age stream's own failures: a damaged or cut-off file
        raise MalformedBundle(f"damaged or truncated: {exc}") from exc
    return parser.finish()
