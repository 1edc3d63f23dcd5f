#!/usr/bin/env bash
# Optional: run the NSIS installer's logic under Wine on Linux (not part of CI; needs
# `apt-get install wine64 wine` and Debian's nsis, whose amd64 stubs let wine64 run the
# installer without 32-bit Wine).
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
# deletes it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WINE=$(command -v wine64 || echo /usr/lib/wine/wine64)
[ -x "$WINE" ] || { echo "cần wine64 (apt-get install wine64 wine)" >&2; exit 127; }
command -v makensis >/dev/null || { echo "cần makensis (apt-get install nsis)" >&2; exit 127; }

T=$(mktemp -d "${TMPDIR:-/tmp}/motcua-wine.XXXXXX")
trap 'WINEPREFIX="$T/prefix" wineserver -k 2>/dev/null || true; rm -rf "$T"' EXIT
export WINEPREFIX="$T/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
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
cp "$T/stage/motcua.exe" "$T/stage/motcua-gui.exe"
echo stand-in >"$T/stage/_internal/README.txt"
NSIS_TARGET=amd64-unicode COMPRESSOR=zlib bash "$HERE/build.sh" "$T/stage" "$T/installer.exe" >/dev/null
# an older release, for the downgrade refusal
VERSION=0.0.1 NSIS_TARGET=amd64-unicode COMPRESSOR=zlib bash "$HERE/build.sh" "$T/stage" "$T/old.exe" >/dev/null

"$WINE" wineboot -i >/dev/null 2>&1 || true
C="$WINEPREFIX/drive_c"
P="$C/Program Files/MotCuaOffline"
printf '{}' >"$T/quay 01.json"
cp "$T/quay 01.json" "$T/hong 01.json"
wT=$("$WINE" winepath -w "$T" 2>/dev/null | tr -d '\r')
cat >"$T/run.bat" <<EOF
cd /d "$wT"
installer.exe /S /PROVISION="$wT\\quay 01.json"
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
echo stop >"C:\\Program Files\\MotCuaOffline\\stop.txt"
ping -n 2 127.0.0.1 >nul
installer.exe /S
echo rc-after-close=%ERRORLEVEL%
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
grep -qx 'rc-after-close=0' <<<"$out" || fail "cài sau khi đóng chương trình"
grep -q 'Refused (exit 5): installed version 0.1' <<<"$out" || fail "thiếu dòng nhật ký exit 5"
grep -q 'Refused (exit 4): .*motcua.exe is in use' <<<"$out" || fail "thiếu dòng nhật ký exit 4"
grep -qF "\\motcua.exe\" provision \"$wT\\quay 01.json\"" "$P/called.txt" \
  || fail "lệnh provision: $(cat "$P/called.txt")"
[ -f "$P/provision.log" ] || fail "thiếu provision.log"
ls "$C/ProgramData/Microsoft/Windows/Start Menu/Programs/Một Cửa Offline/Một Cửa Offline.lnk" \
  >/dev/null || fail "thiếu lối tắt Start menu"
"$WINE" reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\MotCuaOffline' \
  >/dev/null 2>&1 || fail "thiếu khóa gỡ cài đặt"

D=$("$WINE" cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
D=$("$WINE" winepath -u "$D\\MotCuaOffline" 2>/dev/null | tr -d '\r')
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
echo "NSIS dưới Wine: cài im lặng, /PROVISION (0/2/3), đang chạy (4), hạ phiên bản (5, /FORCE), lối tắt, gỡ giữ dữ liệu, /PURGE: đạt"
