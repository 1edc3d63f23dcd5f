"""One station per Windows PC: every Windows account of the counter is the same station.

With data per Windows user, two accounts on one counter PC were two stations, and a fleet
install (SCCM, PDQ, Group Policy: the installer runs as SYSTEM or an administrator)
provisioned a profile no clerk ever uses. On Windows the station therefore lives in
``%ProgramData%\\MotCuaOffline``:

- The installer gives SYSTEM and Administrators full control and the clerks' group (the
  local Users group unless ``/CLERKS=`` names another) the right to modify, inherited by
  everything inside, and nothing to anyone else. It records the group in the registry
  (``HKLM\\Software\\MotCuaOffline\\ClerksGroup``); the app applies the same ACL when it
  makes a new database there, so a folder it created itself is protected as well.
- Secrets (data key, station token, USB bundle signing key) cannot live in Credential
  Manager, which is per Windows account: they are files in ``secrets\\`` sealed with
  machine-scope DPAPI, readable only on this PC and, through the ACL, only by the
  clerks' group and administrators. Against a thief who takes the whole disk, the
  machine's DPAPI key is on that disk too: BitLocker (or Windows device encryption) is
  what protects it there (README, "Bảo vệ dữ liệu").

Everywhere else (Linux, and any folder given with ``MOTCUA_DATA_DIR`` or ``--data-dir``
outside ``%ProgramData%``) the data directory belongs to the account that runs the app.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)

DIR_NAME = "MotCuaOffline"
SYSTEM_SID = "*S-1-5-18"
ADMINISTRATORS_SID = "*S-1-5-32-544"
USERS_SID = "*S-1-5-32-545"  # BUILTIN\Users, by SID: the name differs by Windows language
REGISTRY_KEY = r"Software\MotCuaOffline"
GROUP_VALUE = "ClerksGroup"
SEALED_PREFIX = "dpapi-machine:"
# Extra entropy: another program calling CryptUnprotectData on the file without it fails.
_ENTROPY = b"motcua-offline/secret/v1"
_CRYPTPROTECT_UI_FORBIDDEN = 0x1
_CRYPTPROTECT_LOCAL_MACHINE = 0x4


def machine_data_dir(environ: Mapping[str, str] = os.environ) -> Path | None:
    """``%ProgramData%\\MotCuaOffline``, or None when ProgramData is not known."""
    program_data = environ.get("PROGRAMDATA") or environ.get("ALLUSERSPROFILE")
    return Path(program_data) / DIR_NAME if program_data else None


def is_machine_station(root: Path, *, platform: str = sys.platform,
                       environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``root`` is a station shared by every account of this Windows PC."""
    if platform != "win32":
        return False
    program_data = environ.get("PROGRAMDATA") or environ.get("ALLUSERSPROFILE")
    if not program_data:
        return False
    base = os.path.normcase(os.path.abspath(program_data)).rstrip("\\/")
    here = os.path.normcase(os.path.abspath(root))
    return here == base or here.startswith(base + os.sep)


def acl_command(root: Path, clerks_group: str = USERS_SID) -> list[str]:
    """The icacls command the installer runs too: no inherited entries; full control for
    SYSTEM and Administrators, modify for the clerks' group, passed down to everything
    inside (Windows passes inheritable entries down to what already exists)."""
    return ["icacls", str(root), "/inheritance:r", "/grant:r",
            f"{SYSTEM_SID}:(OI)(CI)F", f"{ADMINISTRATORS_SID}:(OI)(CI)F",
            f"{clerks_group}:(OI)(CI)M", "/C", "/Q"]


def clerks_group() -> str:  # pragma: no cover - Windows only
    """The group the installer gave the station to (registry), else BUILTIN\\Users."""
    try:
        import winreg

        with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, REGISTRY_KEY, 0,
                            winreg.KEY_READ | winreg.KEY_WOW64_64KEY) as key:
            value, _ = winreg.QueryValueEx(key, GROUP_VALUE)
    except OSError:
        return USERS_SID
    return str(value).strip() or USERS_SID


def apply_acl(root: Path) -> bool:  # pragma: no cover - Windows only
    """Give ``root`` the station ACL. A clerk (modify rights, not the right to change
    permissions) gets "access denied" on a folder the installer set up: that is the
    normal case, logged at INFO; the installer's ACL stays."""
    cmd = acl_command(root, clerks_group())
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                              creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except OSError as exc:
        log.warning("icacls on the station folder could not run: %s", exc)
        return False
    if done.returncode != 0:
        log.info("station folder ACL left as it is (icacls exited %d: %s)",
                 done.returncode, (done.stdout + done.stderr).strip()[:200])
        return False
    log.info("station folder ACL set: SYSTEM, Administrators, clerks' group %s", cmd[6])
    return True


# ------------------------------------------------------------------ machine DPAPI
def seal(value: str) -> str:
    """``value`` sealed with this PC's DPAPI machine key, as text for a file."""
    blob = _dpapi(value.encode("utf-8"), protect=True)
    return SEALED_PREFIX + base64.b64encode(blob).decode("ascii")


def unseal(text: str) -> str:
    """The value of a sealed file's text (a plain value, as written by an older version
    or on another platform, is returned as it is)."""
    if not text.startswith(SEALED_PREFIX):
        return text
    blob = base64.b64decode(text[len(SEALED_PREFIX):])
    return _dpapi(blob, protect=False).decode("utf-8")


def _dpapi(data: bytes, *, protect: bool) -> bytes:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        raise OSError("machine DPAPI exists only on Windows")
    import ctypes
    from ctypes import wintypes

    class Blob(ctypes.Structure):
        _fields_ = [("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char))]

    def blob_of(raw: bytes) -> tuple[Blob, ctypes.Array[ctypes.c_char]]:
        buf = ctypes.create_string_buffer(raw, len(raw))
        return Blob(len(raw), ctypes.cast(buf, ctypes.POINTER(ctypes.c_char))), buf

    crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    data_in, _keep = blob_of(data)
    entropy, _keep2 = blob_of(_ENTROPY)
    out = Blob()
    flags = _CRYPTPROTECT_UI_FORBIDDEN
    if protect:
        ok = crypt32.CryptProtectData(ctypes.byref(data_in), "motcua", ctypes.byref(entropy),
                                      None, None, flags | _CRYPTPROTECT_LOCAL_MACHINE,
                                      ctypes.byref(out))
    else:
        ok = crypt32.CryptUnprotectData(ctypes.byref(data_in), None, ctypes.byref(entropy),
                                        None, None, flags, ctypes.byref(out))
    if not ok:
        raise ctypes.WinError(ctypes.get_last_error())
    try:
        return ctypes.string_at(out.pbData, out.cbData)
    finally:
        kernel32.LocalFree(out.pbData)
