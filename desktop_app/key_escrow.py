"""The data key's escrow: a recovery code the technician writes down at enrolment, and
the data key wrapped under it, kept beside the data and at the province.

The code is 30 random base32 characters (150 bits) in six groups of five. A key derived
from it with scrypt (N=2^17, r=8: 128 MiB, about a second) wraps the data key with
AES-256-GCM. The wrapped copy is useless without the code, so it may sit in the data
directory (``secrets/data.key.escrow``) and on the gateway; the code itself is shown
once and stored nowhere, and never logged."""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from desktop_app.data_key import KEY_BYTES
from desktop_app.domain.errors import DomainError
from desktop_app.files import write_atomically

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32
GROUPS, GROUP_LEN = 6, 5
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
AAD = b"motcua/data-key-escrow/v1"
# Wrong codes typed on this PC before `recover-key` refuses for LOCK_S seconds. The
# code's 150 bits already defeat guessing; this stops a hurried technician from typing
# variants until the real one is mistyped into the log of someone's memory.
MAX_FAILURES = 5
LOCK_S = 15 * 60


def escrow_file(data_dir: Path) -> Path:
    return data_dir / "secrets" / "data.key.escrow"


def _attempts_file(data_dir: Path) -> Path:
    return data_dir / "secrets" / "recover-key.attempts"


class WrongRecoveryCode(DomainError):
    """The code opens none of the wrapped copies."""


class RecoveryLocked(DomainError):
    """Too many wrong codes in a row on this PC."""


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(raw[i:i + GROUP_LEN] for i in range(0, len(raw), GROUP_LEN))


def normalise_code(typed: str) -> str:
    """What the technician typed, in the canonical form: upper case, groups rejoined;
    the digits that look like letters (0, 1, 8) read as the letters (O, I, B)."""
    text = "".join(ch for ch in typed.upper() if ch.isalnum())
    text = text.translate(str.maketrans({"0": "O", "1": "I", "8": "B"}))
    return "-".join(text[i:i + GROUP_LEN] for i in range(0, len(text), GROUP_LEN))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _kek(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(
        normalise_code(code).encode("ascii"))


def wrap(data_key: bytes, code: str) -> str:
    """The JSON envelope of ``data_key`` under ``code``."""
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = _kek(code, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(kek).encrypt(nonce, data_key, AAD)
    return json.dumps({"v": 1, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R,
                       "p": SCRYPT_P, "salt": _b64(salt), "nonce": _b64(nonce),
                       "sealed": _b64(sealed)}, sort_keys=True)


def unwrap(envelope: str, code: str) -> bytes | None:
    """The data key, or None when ``code`` does not open this envelope."""
    e = json.loads(envelope)
    if e.get("v") != 1 or e.get("kdf") != "scrypt":
        raise ValueError("unknown key escrow format")
    n, r, p = int(e["n"]), int(e["r"]), int(e["p"])
    if not (2**14 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
        raise ValueError("key escrow cost out of range")  # a hostile envelope's DoS
    kek = _kek(code, base64.b64decode(e["salt"]), n, r, p)
    try:
        key = AESGCM(kek).decrypt(base64.b64decode(e["nonce"]),
                                  base64.b64decode(e["sealed"]), AAD)
    except InvalidTag:
        return None
    return key if len(key) == KEY_BYTES else None


@dataclass(frozen=True)
class Escrow:
    code: str  # show once, never log
    envelope: str


def make_escrow(data_dir: Path, data_key: bytes) -> Escrow:
    """A new recovery code and the data key wrapped under it, kept owner-only in the data
    directory (a newer code replaces the local copy; older codes still open the copies
    the gateway keeps)."""
    code = new_recovery_code()
    envelope = wrap(data_key, code)
    path = escrow_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    write_atomically(path, envelope + "\n", mode=0o600)
    log.info("data key escrow written to %s", path.name)
    return Escrow(code, envelope)


def local_envelopes(data_dir: Path) -> list[str]:
    try:
        text = escrow_file(data_dir).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return []
    return [text] if text else []


def _check_lock(data_dir: Path) -> None:
    failures, last = _read_attempts(data_dir)
    left = LOCK_S - (time.time() - last)
    if failures >= MAX_FAILURES and left > 0:
        raise RecoveryLocked(
            f"Đã nhập sai mã khôi phục {failures} lần liên tiếp. Hãy chờ "
            f"{int(left // 60) + 1} phút rồi thử lại, và đối chiếu kỹ với mã đã ghi khi "
            "đăng ký máy.", f"recover-key locked after {failures} wrong codes")


def _read_attempts(data_dir: Path) -> tuple[int, float]:
    try:
        failures, last = _attempts_file(data_dir).read_text(encoding="ascii").split()
        return int(failures), float(last)
    except (FileNotFoundError, ValueError):
        return 0, 0.0


def open_envelopes(data_dir: Path, envelopes: list[str], code: str,
                   fits: Callable[[bytes], bool] = lambda _key: True,
                   *, count: bool = True) -> bytes:
    """The data key from the first envelope ``code`` opens (and ``fits`` accepts). A
    wrong code counts against this PC's attempts when ``count`` (WrongRecoveryCode;
    RecoveryLocked once too many)."""
    _check_lock(data_dir)
    if len(normalise_code(code).replace("-", "")) != GROUPS * GROUP_LEN:
        raise WrongRecoveryCode(
            f"Mã khôi phục gồm {GROUPS} nhóm, mỗi nhóm {GROUP_LEN} ký tự (chữ A–Z và số "
            "2–7). Hãy nhập lại đủ mã.", "recovery code of the wrong length")
    for envelope in envelopes:
        key = unwrap(envelope, code)
        if key is not None and fits(key):
            _attempts_file(data_dir).unlink(missing_ok=True)
            return key
    if not count:
        raise WrongRecoveryCode("", "no copy opened yet")
    failures = _read_attempts(data_dir)[0] + 1
    path = _attempts_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, f"{failures} {time.time()}\n", mode=0o600)
    log.warning("recover-key: wrong recovery code (%d in a row)", failures)
    raise WrongRecoveryCode(
        "Mã khôi phục không đúng với khóa của máy này. Hãy đối chiếu từng ký tự với mã "
        f"đã ghi khi đăng ký máy (còn {max(MAX_FAILURES - failures, 0)} lần thử trước khi "
        "phải chờ 15 phút).", f"wrong recovery code ({failures} in a row)")


def _opens_database(data_dir: Path, database: Path | None) -> Callable[[bytes], bool]:
    """Whether a data key opens the encrypted station file (any key when there is none)."""
    from desktop_app.data_key import PURPOSE_DATABASE, subkey
    from local_db.engine import WrongDatabaseKey, connect_sqlite, is_plaintext_sqlite

    if database is None or not database.is_file() or is_plaintext_sqlite(database) \
            or database.stat().st_size == 0:
        return lambda _key: True

    def check(key: bytes) -> bool:
        try:
            connect_sqlite(database, subkey(key, PURPOSE_DATABASE), read_only=True).close()
        except WrongDatabaseKey:
            return False
        return True

    return check


def recover_key(data_dir: Path, code: str, database: Path | None,
                fetch: Callable[[], list[str]] | None = None) -> str:
    """Put the data key back into this PC's key store from the local wrapped copy or,
    when that is missing or is not the key of ``database``, from the gateway's copies
    (``fetch``). Returns where the key was stored."""
    from desktop_app.data_key import DataKeyStore

    fits = _opens_database(data_dir, database)
    local = local_envelopes(data_dir)
    key: bytes | None = None
    if local:
        key = _open_fitting(data_dir, local, code, fits, last=fetch is None)
    if key is None and fetch is not None:
        remote = fetch()
        log.info("recover-key: %d wrapped keys from the gateway", len(remote))
        if remote:
            key = _open_fitting(data_dir, remote, code, fits, last=True)
    if key is None:
        raise DomainError(
            "Không có bản khóa dự phòng trên máy này. Hãy đăng ký lại máy với tỉnh (xin mã "
            "đăng ký) rồi chạy “motcua recover-key --gateway … --agency … --digit … "
            "--enrolment-code …” để lấy bản khóa tỉnh giữ.",
            "no key escrow on this PC" + ("" if fetch is None else " nor on the gateway"))
    where = DataKeyStore(data_dir).store(key)
    log.info("data key recovered into %s", "the keyring" if where == "keyring"
             else "the key file")
    return where


def _open_fitting(data_dir: Path, envelopes: list[str], code: str,
                  fits: Callable[[bytes], bool], *, last: bool) -> bytes | None:
    """The key ``code`` opens that also opens the database. A wrong code counts as a
    failed attempt only once every copy was tried (``last``)."""
    try:
        return open_envelopes(data_dir, envelopes, code, fits, count=last)
    except WrongRecoveryCode:
        if last:
            raise
        return None
