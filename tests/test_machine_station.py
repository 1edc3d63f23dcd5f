"""One station per Windows PC (desktop_app.machine_station): which folder is the PC's
station, the ACL it gets, and secrets sealed for the machine instead of one account's key
store. DPAPI itself only exists on Windows: those tests run in the Windows workflow."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from desktop_app import machine_station
from desktop_app.data_key import DataKeyStore
from desktop_app.machine_station import (
    acl_command,
    is_machine_station,
    machine_data_dir,
    seal,
    unseal,
)
from desktop_app.os_keyring import SecretSlot

pytestmark = pytest.mark.nodb

WINDOWS_ENV = {"PROGRAMDATA": "/pd"}


def test_the_station_folder_is_in_programdata() -> None:
    assert machine_data_dir({"PROGRAMDATA": "/pd"}) == Path("/pd/MotCuaOffline")
    assert machine_data_dir({"ALLUSERSPROFILE": "/pd"}) == Path("/pd/MotCuaOffline")
    assert machine_data_dir({}) is None


@pytest.mark.parametrize(("root", "shared"), [
    ("/pd/MotCuaOffline", True),
    ("/pd/MotCuaOffline/../MotCuaOffline", True),
    ("/pd", True),
    ("/pdx/MotCuaOffline", False),  # a sibling whose name begins the same
    ("/home/mai/MotCuaOffline", False),
])
def test_which_folders_are_the_pcs_station(root: str, shared: bool) -> None:
    assert is_machine_station(Path(root), platform="win32", environ=WINDOWS_ENV) is shared
    # Elsewhere than Windows a data directory always belongs to one account.
    assert not is_machine_station(Path(root), platform="linux", environ=WINDOWS_ENV)
    assert not is_machine_station(Path(root), platform="win32", environ={})


def test_the_acl_gives_the_clerks_group_modify_and_nobody_else_anything() -> None:
    cmd = acl_command(Path(r"C:\ProgramData\MotCuaOffline"))
    assert cmd[:4] == ["icacls", r"C:\ProgramData\MotCuaOffline", "/inheritance:r", "/grant:r"]
    grants = cmd[4:7]
    assert grants == ["*S-1-5-18:(OI)(CI)F", "*S-1-5-32-544:(OI)(CI)F",
                      "*S-1-5-32-545:(OI)(CI)M"]
    assert acl_command(Path("X"), "QuayMotCua")[6] == "QuayMotCua:(OI)(CI)M"


def test_a_plain_secret_file_still_reads_where_nothing_is_sealed() -> None:
    # what the file fallback wrote before sealing existed, or on another platform
    assert unseal("abc123") == "abc123"


@pytest.mark.skipif(sys.platform == "win32", reason="DPAPI exists there")
def test_sealing_is_refused_off_windows(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        seal("secret")
    slot = SecretSlot("acct", tmp_path / "secrets" / "x.key", "test secret", machine=True)
    with pytest.raises(OSError):
        slot.write("secret")
    assert not (tmp_path / "secrets" / "x.key").exists()


def test_a_sealed_file_from_another_pc_is_reported_not_returned(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    file = tmp_path / "secrets" / "data.key"
    file.parent.mkdir()
    # DPAPI output of another machine (or damage): not unsealable here
    file.write_text(machine_station.SEALED_PREFIX + "AQAAANCMnd8BFdERjHoAwE/Cl+s=")
    slot = SecretSlot("acct", file, "data key", machine=True)
    with caplog.at_level(logging.ERROR):
        assert slot.read() == ("", "")
    assert "cannot be unsealed on this PC" in caplog.text
    assert "AQAAANCM" not in caplog.text


def test_only_the_pcs_station_uses_machine_sealing(tmp_path: Path) -> None:
    assert DataKeyStore(tmp_path)._slot.machine is (sys.platform == "win32" and
                                                   is_machine_station(tmp_path))


@pytest.mark.skipif(sys.platform != "win32", reason="machine DPAPI is Windows only")
def test_dpapi_round_trip_and_sealed_file(tmp_path: Path) -> None:  # pragma: no cover
    sealed = seal("khóa-bí-mật")
    assert sealed.startswith(machine_station.SEALED_PREFIX)
    assert "khóa" not in sealed
    assert unseal(sealed) == "khóa-bí-mật"
    file = tmp_path / "secrets" / "token"
    slot = SecretSlot("motcua-test-machine", file, "test secret", machine=True)
    assert slot.write("tok-123") == str(file)
    assert file.read_text(encoding="utf-8").startswith(machine_station.SEALED_PREFIX)
    assert slot.read() == ("tok-123", "file")
