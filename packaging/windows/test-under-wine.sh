#!/usr/bin/env bash
# Run the NSIS installer's logic under Wine on Linux (CI runs it through
# tests/packaging/test_installer_under_wine.py; needs `apt-get install wine64` and
# Debian's nsis, whose amd64 stubs let wine64 run the installer without 32-bit Wine).
#
#   bash packaging/windows/test-under-wine.sh
#
# The payload is a stand-in: `motcua.exe` is a tiny NSIS program that records its
# command line in called.txt and exits 5 when the command line contains "hong"; with
# "--wait" it stays running (running.txt) until stop.txt appears. Checks:
# silent install + shortcuts + uninstall registry key; /PROVISION= with a quoted path
# with spaces -> `motcua.exe provision "<full path>"`; exit 2 for a missing provisioning
# file, 3 for a failing `provision`; exit 4 while the installed motcua.exe runs; exit 5
# for an older installer over a newer install, 0 with /FORCE; both refusals logged in
# %TEMP%\motcua-offline-setup.log; silent uninstall keeps the data directory, /PURGE
# deletes it, and is refused (4) while motcua.exe runs.
# The station folder: C:\ProgramData\MotCuaOffline, made by the installer with the ACL of
# desktop_app/machine_station.acl_command (Wine's icacls is a stub, so a recorder stands
# in for it and the test reads the command lines it got), the clerks' group from
# /CLERKS= in the registry, provision.log there and made admin-only before provisioning
# writes to it, `provision ... --data-dir <station folder>`, %VARIABLES% in /PROVISION=
# expanded.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$WINE" ] || { echo "cần wine64 (apt-get install wine64 wine)" >&2; exit 127; }
command -v makensis >/dev/null || { echo "cần makensis (apt-get install nsis)" >&2; exit 127; }

T=$(mktemp -d "${TMPDIR:-/tmp}/motcua-wine.XXXXXX")
trap 'WINEPREFIX="$T/prefix" wineserver -k 2>/dev/null || true; rm -rf "$T"' EXIT
# icacls.exe=n: the recorder in system32, not Wine's built-in stub
export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=;icacls.exe=n"
mkdir -p "$T/stage/_internal"

cat >"$T/fake.nsi" <<'EOF'
Target amd64-unicode
Unicode true
OutFile "${OUT}"
SilentInstall silent
RequestExecutionLevel user
Section
  FileOpen $0 "$EXEDIR\called.txt" a
  FileSeek $0 0 END
  FileWrite $0 "$CMDLINE$\r$\n"
  FileClose $0
SectionEnd
!include LogicLib.nsh
!include WordFunc.nsh
Function .onInit
  ClearErrors
  ${WordFind} $CMDLINE "--wait" "E+1{" $0
  ${IfNot} ${Errors}
    FileOpen $1 "$EXEDIR\running.txt" w
    FileClose $1
    StrCpy $2 0
    ${DoWhile} $2 < 600
      ${IfThen} ${FileExists} "$EXEDIR\stop.txt" ${|} ${Break} ${|}
      Sleep 100
      IntOp $2 $2 + 1
    ${Loop}
  ${EndIf}
  StrLen $2 $CMDLINE
  StrCpy $3 0
  loop:
    IntCmp $3 $2 done 0 done
    StrCpy $4 $CMDLINE 4 $3
    StrCmp $4 "hong" 0 +3
    SetErrorLevel 5
    Goto done
    IntOp $3 $3 + 1
    Goto loop
  done:
FunctionEnd
EOF
makensis -V1 "-DOUT=$T/stage/motcua.exe" "$T/fake.nsi"
# icacls.exe stand-in: appends its command line to C:\icacls-calls.txt
cat >"$T/icacls.nsi" <<'EOF'
Target amd64-unicode
Unicode true
OutFile "${OUT}"
SilentInstall silent
RequestExecutionLevel user
Section
  FileOpen $0 "C:\icacls-calls.txt" a
  FileSeek $0 0 END
  FileWrite $0 "$CMDLINE$\r$\n"
  FileClose $0
SectionEnd
EOF
makensis -V1 "-DOUT=$T/icacls.exe" "$T/icacls.nsi"
cp "$T/stage/motcua.exe" "$T/stage/motcua-gui.exe"
echo stand-in >"$T/stage/_internal/README.txt"
{ printf '\357\273\277'; cat "$ROOT/LICENSE"; } >"$T/stage/LICENSE.txt"
printf '\357\273\277stand-in notices\n' >"$T/stage/THIRD-PARTY-NOTICES.txt"
NSIS_TARGET=amd64-unicode COMPRESSOR=zlib bash "$HERE/build.sh" "$T/stage" "$T/installer.exe" >/dev/null
# an older release, for the downgrade refusal
VERSION=0.0.1 NSIS_TARGET=amd64-unicode COMPRESSOR=zlib bash "$HERE/build.sh" "$T/stage" "$T/old.exe" >/dev/null

"$WINE" wineboot -i >/dev/null 2>&1 || true
C="$WINEPREFIX/drive_c"
P="$C/Program Files/MotCuaOffline"
D="$C/ProgramData/MotCuaOffline"
cp "$T/icacls.exe" "$C/windows/system32/icacls.exe"
printf '{}' >"$T/quay 01.json"
cp "$T/quay 01.json" "$T/hong 01.json"
wT=$("$WINE" winepath -w "$T" 2>/dev/null | tr -d '\r')
cat >"$T/run.bat" <<EOF
cd /d "$wT"
set QUAY=quay 01
installer.exe /S /PROVISION="$wT\\%%QUAY%%.json"
echo rc-install=%ERRORLEVEL%
installer.exe /S /PROVISION=khong-co.json
echo rc-missing=%ERRORLEVEL%
installer.exe /S /PROVISION="$wT\\hong 01.json"
echo rc-broken=%ERRORLEVEL%
old.exe /S
echo rc-downgrade=%ERRORLEVEL%
old.exe /S /FORCE
echo rc-forced=%ERRORLEVEL%
installer.exe /S
echo rc-upgrade=%ERRORLEVEL%
start "" "C:\\Program Files\\MotCuaOffline\\motcua.exe" --wait
for /l %%i in (1,1,50) do if not exist "C:\\Program Files\\MotCuaOffline\\running.txt" ping -n 2 127.0.0.1 >nul
installer.exe /S
echo rc-running=%ERRORLEVEL%
"C:\\Program Files\\MotCuaOffline\\Uninstall.exe" /S _?=C:\\Program Files\\MotCuaOffline
echo rc-uninstall-running=%ERRORLEVEL%
echo stop >"C:\\Program Files\\MotCuaOffline\\stop.txt"
ping -n 2 127.0.0.1 >nul
installer.exe /S
echo rc-after-close=%ERRORLEVEL%
installer.exe /S /CLERKS=QuayMotCua
echo rc-clerks=%ERRORLEVEL%
reg query HKLM\\Software\\MotCuaOffline /v ClerksGroup
type "%TEMP%\\motcua-offline-setup.log"
EOF
out=$("$WINE" cmd /c "$wT\\run.bat" 2>/dev/null | tr -d "\r" || true)
fail() { echo "FAIL: $*" >&2; echo "$out" >&2; exit 1; }
grep -qx 'rc-install=0' <<<"$out" || fail "cài đặt im lặng"
grep -qx 'rc-missing=2' <<<"$out" || fail "thiếu tệp cấu hình phải trả 2"
grep -qx 'rc-broken=3' <<<"$out" || fail "provision lỗi phải trả 3"
grep -qx 'rc-downgrade=5' <<<"$out" || fail "cài bản cũ đè bản mới phải trả 5"
grep -qx 'rc-forced=0' <<<"$out" || fail "/FORCE phải cho hạ phiên bản"
grep -qx 'rc-upgrade=0' <<<"$out" || fail "nâng cấp lại"
grep -qx 'rc-running=4' <<<"$out" || fail "motcua.exe đang chạy phải trả 4"
grep -qx 'rc-uninstall-running=4' <<<"$out" || fail "gỡ cài đặt khi motcua.exe đang chạy phải trả 4"
grep -qx 'rc-after-close=0' <<<"$out" || fail "cài sau khi đóng chương trình"
grep -qx 'rc-clerks=0' <<<"$out" || fail "cài với /CLERKS="
grep -q 'ClerksGroup.*QuayMotCua' <<<"$out" || fail "nhóm /CLERKS= không ghi vào registry"
grep -q 'Refused (exit 5): installed version 0.1' <<<"$out" || fail "thiếu dòng nhật ký exit 5"
grep -q 'Refused (exit 4): .*motcua.exe is in use' <<<"$out" || fail "thiếu dòng nhật ký exit 4"
grep -qF "\\motcua.exe\" provision \"$wT\\quay 01.json\" --data-dir \"C:\\ProgramData\\MotCuaOffline\"" \
  "$P/called.txt" || fail "lệnh provision: $(cat "$P/called.txt")"
[ -f "$D/provision.log" ] || fail "thiếu provision.log trong thư mục dữ liệu của quầy"
[ ! -e "$P/provision.log" ] || fail "provision.log (mật khẩu dùng một lần) nằm trong Program Files"
calls=$(tr -d '\r' <"$C/icacls-calls.txt" 2>/dev/null || true)
# The installer's grants are those of desktop_app/machine_station.acl_command, in order.
expected=$(cd "$ROOT" && "${PYTHON:-$ROOT/.venv/bin/python}" -c '
from pathlib import Path
from desktop_app.machine_station import acl_command
print(" ".join(acl_command(Path("X"))[2:]))')
station_call=$(grep -F 'ProgramData\MotCuaOffline" /inheritance' <<<"$calls" | head -1)
[ -n "$station_call" ] || fail "icacls không được gọi cho thư mục dữ liệu: $calls"
got=$(sed 's/^.*MotCuaOffline" //; s/"//g' <<<"$station_call")
[ "$got" = "$expected" ] \
  || fail "quyền thư mục dữ liệu khác machine_station.acl_command: “$got” / “$expected”"
grep -qF '"QuayMotCua:(OI)(CI)M"' <<<"$calls" || fail "/CLERKS= không đến icacls: $calls"
grep -qF 'MotCuaOffline\provision.log" /inheritance:r /grant:r *S-1-5-18:F *S-1-5-32-544:F /C /Q' \
  <<<"$calls" || fail "provision.log không được giới hạn cho quản trị viên: $calls"
ls "$C/ProgramData/Microsoft/Windows/Start Menu/Programs/Một Cửa Offline/Một Cửa Offline.lnk" \
  >/dev/null || fail "thiếu lối tắt Start menu"
"$WINE" reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\MotCuaOffline' \
  >/dev/null 2>&1 || fail "thiếu khóa gỡ cài đặt"

mkdir -p "$D/blobs" && echo db >"$D/motcua.sqlite3"
uninstall() {
  printf '"C:\\Program Files\\MotCuaOffline\\Uninstall.exe" /S %s _?=C:\\Program Files\\MotCuaOffline\r\n' \
    "$1" >"$T/u.bat"
  "$WINE" cmd /c "$wT\\u.bat" >/dev/null 2>&1
}
uninstall ""
[ ! -e "$P/motcua.exe" ] || fail "gỡ cài đặt không xóa chương trình"
[ -f "$D/motcua.sqlite3" ] || fail "gỡ cài đặt im lặng đã xóa dữ liệu"
"$WINE" "$T/installer.exe" /S >/dev/null 2>&1
uninstall "/PURGE"
[ ! -e "$D" ] || fail "/PURGE không xóa thư mục dữ liệu"
echo "NSIS dưới Wine: cài im lặng, /PROVISION (0/2/3, %BIẾN%), thư mục quầy trong ProgramData với quyền của machine_station (icacls, /CLERKS=), provision.log chỉ cho quản trị viên, đang chạy (4, cả khi gỡ), hạ phiên bản (5, /FORCE), lối tắt, gỡ giữ dữ liệu, /PURGE: đạt"
