#!/usr/bin/env bash
# Optional: run the NSIS installer's logic under Wine on Linux (not part of CI; needs
# `apt-get install wine64 wine` and Debian's nsis, whose amd64 stubs let wine64 run the
# installer without 32-bit Wine).
#
#   bash packaging/windows/test-under-wine.sh
#
# The payload is a stand-in: `motcua.exe` is a tiny NSIS program that records its
# command line in called.txt and exits 5 when the command line contains "hong". Checks:
# silent install + shortcuts + uninstall registry key; /PROVISION= with a quoted path
# with spaces -> `motcua.exe provision "<full path>"`; exit 2 for a missing provisioning
# file, 3 for a failing `provision`; silent uninstall keeps the data directory, /PURGE
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
Function .onInit
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
EOF
out=$("$WINE" cmd /c "$wT\\run.bat" 2>/dev/null | tr -d "\r" || true)
fail() { echo "FAIL: $*" >&2; echo "$out" >&2; exit 1; }
grep -qx 'rc-install=0' <<<"$out" || fail "cài đặt im lặng"
grep -qx 'rc-missing=2' <<<"$out" || fail "thiếu tệp cấu hình phải trả 2"
grep -qx 'rc-broken=3' <<<"$out" || fail "provision lỗi phải trả 3"
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
echo "NSIS dưới Wine: cài im lặng, /PROVISION (0/2/3), lối tắt, gỡ giữ dữ liệu, /PURGE: đạt"
