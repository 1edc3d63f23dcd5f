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
# lzma for a real bundle, none for the stand-in), MAKENSIS (default: makensis).
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

echo "makensis: SOURCE_DIR=$SOURCE_DIR VERSION=$VERSION COMPRESSOR=$COMPRESSOR"
rc=0
"$MAKENSIS" -V2 -INPUTCHARSET UTF8 -WX \
  "-DSOURCE_DIR=$SOURCE_DIR" "-DVERSION=$VERSION" "-DVI_VERSION=$VI_VERSION" \
  "-DOUTFILE=$OUTFILE" "-DCOMPRESSOR=$COMPRESSOR" ${NSIS_TARGET:+"-DTARGET=$NSIS_TARGET"} \
  "$HERE/motcua.nsi" || rc=$?
[ -n "$cleanup" ] && rm -rf "$cleanup"
if [ "$rc" -ne 0 ]; then
  echo "makensis thất bại (mã $rc)" >&2
  exit "$rc"
fi
echo "$OUTFILE"
