#!/usr/bin/env bash
# Compile the NSIS installer script with makensis.
#
#   bash packaging/windows/build.sh [SOURCE_DIR] [OUTFILE]
#
# SOURCE_DIR: the PyInstaller one-folder bundle to package. On Windows that is dist/motcua
# (motcua.exe, motcua-gui.exe, _internal/). On Linux, where the Windows bundle cannot be
# built, leave it out: a stand-in staging folder with placeholder files is used, which
# proves that the script compiles (pages, Vietnamese strings, sections, uninstaller).
# Pointing it at the Linux dist folder works too, but lzma over 300 MB takes minutes.
#
# Environment: VERSION (default: from pyproject.toml), NSIS_TARGET (e.g. amd64-unicode),
# COMPRESSOR (lzma|zlib|none; default
# lzma for a real bundle, none for the stand-in), MAKENSIS (default: makensis),
# SIGN_CMD (optional; docs/code-signing.md): a command that signs one file in place, %1
# standing for its path, e.g. 'sign-motcua.sh "%1"'. When set, makensis (3.08 or later)
# runs it through the system shell on motcua.exe and motcua-gui.exe of SOURCE_DIR before
# packing them (not on the stand-ins), on the uninstaller before it is embedded
# (!uninstfinalize) and on the finished installer (!finalize); a non-zero exit fails the
# build.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
MAKENSIS=${MAKENSIS:-makensis}

if ! command -v "$MAKENSIS" >/dev/null 2>&1; then
  echo "makensis không có (Debian/Ubuntu: apt-get install nsis)" >&2
  exit 127
fi

VERSION=${VERSION:-$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/pyproject.toml" | head -1)}
# VIProductVersion wants exactly four numbers: 0.1.0rc1 -> 0.1.0.0
nums=$(printf '%s' "$VERSION" | grep -oE '^[0-9]+(\.[0-9]+){0,3}' || echo 0)
IFS=. read -r -a parts <<<"$nums"
while ((${#parts[@]} < 4)); do parts+=(0); done
VI_VERSION="${parts[0]}.${parts[1]}.${parts[2]}.${parts[3]}"

SOURCE_DIR=${1:-}
OUTFILE=${2:-}
cleanup=""
if [ -z "$SOURCE_DIR" ]; then
  SOURCE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/motcua-nsis-stage.XXXXXX")
  cleanup=$SOURCE_DIR
  trap 'rm -rf "$cleanup"' EXIT  # also when a check below stops the script
  mkdir -p "$SOURCE_DIR/_internal/resources"
  printf 'stand-in for the PyInstaller console executable\n' >"$SOURCE_DIR/motcua.exe"
  printf 'stand-in for the PyInstaller windowed executable\n' >"$SOURCE_DIR/motcua-gui.exe"
  printf 'stand-in\n' >"$SOURCE_DIR/_internal/resources/README.txt"
  # as motcua.spec writes them on Windows: UTF-8 with a byte order mark
  { printf '\357\273\277'; cat "$ROOT/LICENSE"; } >"$SOURCE_DIR/LICENSE.txt"
  printf '\357\273\277stand-in for the generated notices\n' >"$SOURCE_DIR/THIRD-PARTY-NOTICES.txt"
  COMPRESSOR=${COMPRESSOR:-none}
  : "${OUTFILE:=$ROOT/dist/motcua-offline-${VERSION}-setup-STANDIN.exe}"
fi
[ -d "$SOURCE_DIR" ] || { echo "không có thư mục $SOURCE_DIR" >&2; exit 2; }
SOURCE_DIR="$(cd "$SOURCE_DIR" && pwd)"
COMPRESSOR=${COMPRESSOR:-lzma}
: "${OUTFILE:=$ROOT/dist/motcua-offline-${VERSION}-setup.exe}"
mkdir -p "$(dirname "$OUTFILE")"
case "$OUTFILE" in /*) ;; *) OUTFILE="$PWD/$OUTFILE" ;; esac

[ -f "$HERE/motcua.ico" ] || "$ROOT/.venv/bin/python" "$ROOT/packaging/make_icons.py" >/dev/null

# An NSIS string literal of $1: quoted with the first of " ' ` that it does not contain.
nsis_string() {
  local q
  for q in '"' "'" '`'; do
    case "$1" in *"$q"*) ;; *) printf '%s%s%s' "$q" "$1" "$q"; return 0 ;; esac
  done
  echo "SIGN_CMD có đủ ba loại dấu nháy; hãy đặt lệnh ký vào một tệp lệnh riêng" >&2
  return 2
}

# Signing: script commands given with -X, so motcua.nsi itself does not change.
sign_args=()
if [ -n "${SIGN_CMD:-}" ]; then
  case "$SIGN_CMD" in *%1*) ;; *) echo "SIGN_CMD phải có %1 (đường dẫn tệp cần ký)" >&2; exit 2 ;; esac
  nsis_version=$("$MAKENSIS" -VERSION | grep -oE '[0-9]+\.[0-9]+' | head -1)
  IFS=. read -r major minor <<<"${nsis_version:-0.0}"
  if ((major < 3 || (major == 3 && 10#$minor < 8))); then
    echo "Ký bộ cài cần NSIS 3.08 trở lên (!uninstfinalize); máy này có $("$MAKENSIS" -VERSION)" >&2
    exit 2
  fi
  if [ -z "$cleanup" ]; then  # a real bundle: its programs are signed before they are packed
    for exe in motcua.exe motcua-gui.exe; do
      [ -f "$SOURCE_DIR/$exe" ] || continue
      sign_args+=("-X!system $(nsis_string "${SIGN_CMD//%1/"$SOURCE_DIR/$exe"}") = 0")
    done
  fi
  sign_args+=("-X!uninstfinalize $(nsis_string "$SIGN_CMD") = 0"
              "-X!finalize $(nsis_string "$SIGN_CMD") = 0")
fi

echo "makensis: SOURCE_DIR=$SOURCE_DIR VERSION=$VERSION COMPRESSOR=$COMPRESSOR${SIGN_CMD:+ SIGN_CMD}"
rc=0
"$MAKENSIS" -V2 -INPUTCHARSET UTF8 -WX \
  "-DSOURCE_DIR=$SOURCE_DIR" "-DVERSION=$VERSION" "-DVI_VERSION=$VI_VERSION" \
  "-DOUTFILE=$OUTFILE" "-DCOMPRESSOR=$COMPRESSOR" ${NSIS_TARGET:+"-DTARGET=$NSIS_TARGET"} \
  ${sign_args[@]+"${sign_args[@]}"} "$HERE/motcua.nsi" || rc=$?
[ -n "$cleanup" ] && rm -rf "$cleanup"
if [ "$rc" -ne 0 ]; then
  echo "makensis thất bại (mã $rc)" >&2
  exit "$rc"
fi
echo "$OUTFILE"
