"""Password hashes for offline login: argon2id; scrypt hashes written before it still
verify and are replaced by argon2id at the next successful login (``needs_rehash``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

# RFC 9106's second recommended option (t=3, 64 MiB, p=4): about 0.1 s a hash on a
# 2-core machine (99 ms measured; scrypt N=2^14 took 28-44 ms), 64 MiB for a moment on a
# 4 GB counter PC. A guess costs an attacker with the database as much.
COST = profiles.RFC_9106_LOW_MEMORY
# Set to "1" by tests/conftest.py only: the cheapest argon2id, so the suite's hundreds of
# accounts do not cost 0.1 s each. A hash made so is below COST and is rehashed at the
# next login without it, so a counter PC started with it by mistake heals itself.
CHEAP_FOR_TESTS_ENV = "MOTCUA_TEST_CHEAP_PASSWORD_HASH"

_SCRYPT = "scrypt"
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def _hasher() -> PasswordHasher:
    if os.environ.get(CHEAP_FOR_TESTS_ENV) == "1":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher.from_parameters(COST)


def hash_password(password: str) -> str:
    """``$argon2id$v=19$m=…,t=…,p=…$salt$digest`` (the PHC string, parameters inside)."""
    return _hasher().hash(password)


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2id, or the older scrypt form).
    An empty or unknown hash matches nothing."""
    if stored.startswith("$argon2"):
        try:
            return _hasher().verify(stored, password)  # parameters come from the hash
        except (VerificationError, InvalidHashError):
            return False
    return _verify_scrypt(password, stored)


def needs_rehash(stored: str) -> bool:
    """A hash below today's cost: scrypt, or argon2id with other parameters."""
    if stored.startswith(f"{_SCRYPT}$"):
        return True
    if stored.startswith("$argon2"):
        try:
            return _hasher().check_needs_rehash(stored)
        except (InvalidHashError, ValueError):
            return True
    return False


def scrypt_hash(password: str) -> str:
    """The former format (``scrypt$N$r$p$salt$digest``), kept to test the upgrade path."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R,
                            p=_SCRYPT_P, dklen=32)
    enc = base64.b64encode
    return (f"{_SCRYPT}${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}$"
            f"{enc(salt).decode()}${enc(digest).decode()}")


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != _SCRYPT:
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        digest = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p),
                                dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)
