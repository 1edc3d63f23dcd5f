#!/usr/bin/env bash
# One command: the PyInstaller bundle, the .deb, the NSIS script compile check, and a
# smoke test of what was built.
#
#   bash scripts/build-packages.sh [--clean] [--no-smoke]
#
#   --clean      rebuild from scratch (PyInstaller --clean; the release procedure uses it)
#   --no-smoke   build only
#
# Outputs (in $OUT_DIR, default dist/):
#   motcua/                              the one-folder bundle (dist/motcua/motcua)
#   motcua-offline_<version>_amd64.deb
#   motcua-offline-<version>-setup-STANDIN.exe   only proves motcua.nsi compiles (the
#                                        Windows bundle must be built on Windows)
#   build-report.json                    versions, sizes, timings, smoke results
#   SHA256SUMS
#
# Environment:
#   PYTHON                 interpreter with the app installed (default .venv/bin/python)
#   OUT_DIR, WORK_DIR      outputs / PyInstaller work folder (default dist/, build/pyinstaller)
#   DEB_COMPRESS           see packaging/linux/build_deb.sh (default zstd)
#   SMOKE_ALLOW_DOCTOR_FAILURE=1   report a failing `motcua doctor` without failing
#   MOTCUA_SMOKE_CHROOT=DIR        also `apt-get install` the .deb into this Debian root
#                                  (made with debootstrap) and run the checks there
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
OUT_DIR=${OUT_DIR:-$ROOT/dist}
WORK_DIR=${WORK_DIR:-$ROOT/build/pyinstaller}
CLEAN=0
SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --clean) CLEAN=1 ;;
    --no-smoke) SMOKE=0 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "tham số không rõ: $arg" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT_DIR"
case "$OUT_DIR" in /*) ;; *) OUT_DIR="$ROOT/$OUT_DIR" ;; esac

say() { printf '\n==> %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T0=$(now)

# ------------------------------------------------------------------ build tools
say "Công cụ đóng gói"
[ -x "$PY" ] || { echo "không có $PY: chạy bash scripts/setup.sh trước" >&2; exit 2; }
apt_missing=()
command -v objdump >/dev/null || apt_missing+=(binutils)      # PyInstaller, build_deb.sh
command -v dpkg-deb >/dev/null || apt_missing+=(dpkg)
command -v makensis >/dev/null || apt_missing+=(nsis)         # optional: compile check
if ((${#apt_missing[@]})) && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Cài gói hệ thống: ${apt_missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${apt_missing[@]}") >/dev/null || echo "(cài gói thất bại)" >&2
fi
want_pyi=$(sed -n 's/^pyinstaller==//p' packaging/requirements-build.txt)
have_pyi=$("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null || true)
if [ "$have_pyi" != "$want_pyi" ]; then
  echo "Cài PyInstaller $want_pyi (đang có: ${have_pyi:-không})"
  "$PY" -m pip install -q -r packaging/requirements-build.txt
fi
PYI_VERSION=$("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)')
echo "PyInstaller $PYI_VERSION, $("$PY" --version)"

# ------------------------------------------------------------------ bundle
say "PyInstaller: $OUT_DIR/motcua"
[ -f packaging/linux/motcua.png ] && [ -f packaging/windows/motcua.ico ] \
  || "$PY" packaging/make_icons.py
T=$(now)
pyi_args=(--noconfirm --log-level WARN --distpath "$OUT_DIR" --workpath "$WORK_DIR")
((CLEAN)) && pyi_args+=(--clean)
"$PY" -m PyInstaller "${pyi_args[@]}" packaging/motcua.spec
T_PYI=$(elapsed "$T")
BUNDLE="$OUT_DIR/motcua"
[ -x "$BUNDLE/motcua" ] || { echo "PyInstaller không tạo $BUNDLE/motcua" >&2; exit 1; }
BUNDLE_MB=$(du -sm "$BUNDLE" | awk '{print $1}')
VERSION=$("$BUNDLE/motcua" --version | awk '{print $NF}')
# Start-up: best of three runs of `motcua --version` (the second and later runs have the
# files in the page cache, as a counter PC has after the first start of the day).
STARTUP=$("$PY" - "$BUNDLE/motcua" <<'PY'
import subprocess, sys, time
best = None
for _ in range(3):
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "--version"], check=True, capture_output=True)
    d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print(f"{best:.2f}")
PY
)
echo "bundle: ${BUNDLE_MB} MB, motcua $VERSION, --version ${STARTUP}s, PyInstaller ${T_PYI}s"

# ------------------------------------------------------------------ .deb
say ".deb"
T=$(now)
DEB=$(bash packaging/linux/build_deb.sh "$BUNDLE" "$OUT_DIR" | tail -1)
T_DEB=$(elapsed "$T")
DEB_MB=$(du -m "$DEB" | awk '{print $1}')
echo "$DEB (${DEB_MB} MB, ${T_DEB}s)"

# ------------------------------------------------------------------ NSIS
say "NSIS (kiểm tra biên dịch motcua.nsi)"
NSIS_OUT=""
NSIS_STATUS="skipped"
if command -v makensis >/dev/null; then
  NSIS_OUT="$OUT_DIR/motcua-offline-${VERSION}-setup-STANDIN.exe"
  VERSION="$VERSION" bash packaging/windows/build.sh "" "$NSIS_OUT" >/dev/null
  NSIS_STATUS="compiled"
  echo "$NSIS_OUT"
else
  echo "BỎ QUA: không có makensis (apt-get install nsis)"
fi

# ------------------------------------------------------------------ smoke test
SMOKE_VERSION="skipped"; SMOKE_DOCTOR="skipped"; SMOKE_DEMO="skipped"; DEMO_PDFS=0
SMOKE_CHROOT="skipped"
fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }
if ((SMOKE)); then
  say "Kiểm tra nhanh: cài .deb vào thư mục sạch (dpkg -x) và chạy"
  S=$(mktemp -d "${TMPDIR:-/tmp}/motcua-smoke.XXXXXX")
  trap 'rm -rf "$S"' EXIT
  dpkg-deb -x "$DEB" "$S/root"
  APP="$S/root/opt/motcua-offline/motcua"
  [ -x "$APP" ] || fail "thiếu /opt/motcua-offline/motcua trong gói"
  [ "$(readlink "$S/root/usr/bin/motcua")" = /opt/motcua-offline/motcua ] \
    || fail "/usr/bin/motcua không trỏ tới /opt/motcua-offline/motcua"
  DESKTOP="$S/root/usr/share/applications/motcua-offline.desktop"
  grep -q '^Name=Một Cửa Offline$' "$DESKTOP" || fail ".desktop thiếu Name"
  grep -q '^Categories=Office;$' "$DESKTOP" || fail ".desktop thiếu Categories=Office"
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$DESKTOP" || fail "desktop-file-validate"
  fi
  [ -s "$S/root/usr/share/icons/hicolor/256x256/apps/motcua-offline.png" ] || fail "thiếu biểu tượng"
  # through a symlink, as /usr/bin/motcua will be (the bootloader resolves its real path)
  mkdir -p "$S/bin" && ln -s "$APP" "$S/bin/motcua"
  # an empty environment as far as the app is concerned: own HOME, no venv on PATH
  run() {
    env -i PATH=/usr/bin:/bin HOME="$S/home" LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
      MOTCUA_DATA_DIR="$S/data" "$@"
  }
  mkdir -p "$S/home"

  got=$(run "$S/bin/motcua" --version)
  [ "$got" = "motcua $VERSION" ] || fail "--version: '$got'"
  SMOKE_VERSION="ok"
  echo "motcua --version: $got"

  if run "$S/bin/motcua" --help | grep -qw doctor; then
    set +e
    run "$S/bin/motcua" doctor; rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
      SMOKE_DOCTOR="ok"
    elif [ "${SMOKE_ALLOW_DOCTOR_FAILURE:-0}" = 1 ]; then
      SMOKE_DOCTOR="failed($rc)"
      echo "motcua doctor: mã $rc (SMOKE_ALLOW_DOCTOR_FAILURE=1: bỏ qua)"
    else
      fail "motcua doctor: mã $rc"
    fi
  else
    SMOKE_DOCTOR="absent"
    echo "BỎ QUA: lệnh 'motcua doctor' chưa có trong phiên bản này"
  fi

  run "$S/bin/motcua" demo --out "$S/demo" >"$S/demo.json" || fail "motcua demo"
  DEMO_PDFS=$("$PY" - "$S/demo.json" "$S/demo" <<'PY'
import json, pathlib, sys
summary = json.loads(pathlib.Path(sys.argv[1]).read_text(encoding="utf-8"))
files = [pathlib.Path(d["file"]) for d in summary["dossiers"]]
assert files, "demo received no dossier"
for f in files:
    assert f.is_file() and f.read_bytes()[:5] == b"%PDF-", f"not a PDF: {f}"
pdfs = sorted(pathlib.Path(sys.argv[2]).glob("*.pdf"))
assert len(pdfs) >= len(files), (len(pdfs), len(files))
print(len(pdfs))
PY
) || fail "kết quả demo"
  SMOKE_DEMO="ok"
  echo "motcua demo: $DEMO_PDFS tệp PDF"

  if [ -n "${MOTCUA_SMOKE_CHROOT:-}" ]; then
    say "Cài thật bằng apt vào $MOTCUA_SMOKE_CHROOT"
    C=$MOTCUA_SMOKE_CHROOT
    cp "$DEB" "$C/tmp/"
    debname=$(basename "$DEB")
    for m in proc dev; do mountpoint -q "$C/$m" || mount --bind "/$m" "$C/$m"; done
    set +e
    chroot "$C" /bin/sh -ec "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq /tmp/$debname >/dev/null && motcua --version && \
      rm -rf /tmp/smoke-demo && QT_QPA_PLATFORM=offscreen MOTCUA_DATA_DIR=/tmp/smoke-data \
      motcua demo --out /tmp/smoke-demo >/dev/null && ls /tmp/smoke-demo/*.pdf | wc -l"
    rc=$?
    set -e
    umount "$C/proc" "$C/dev" 2>/dev/null || true
    [ "$rc" -eq 0 ] || fail "cài vào chroot (mã $rc)"
    SMOKE_CHROOT="ok"
  fi
fi

# ------------------------------------------------------------------ report
(cd "$OUT_DIR" && sha256sum "$(basename "$DEB")" ${NSIS_OUT:+"$(basename "$NSIS_OUT")"} \
  >SHA256SUMS)
T_TOTAL=$(elapsed "$T0")
"$PY" - "$OUT_DIR/build-report.json" <<PY
import json, sys
json.dump({
    "version": "$VERSION",
    "pyinstaller": "$PYI_VERSION",
    "bundle_dir": "$BUNDLE",
    "bundle_mb": $BUNDLE_MB,
    "startup_version_s": $STARTUP,
    "deb": "$DEB",
    "deb_mb": $DEB_MB,
    "nsis": {"status": "$NSIS_STATUS", "file": "$NSIS_OUT" or None},
    "smoke": {"version": "$SMOKE_VERSION", "doctor": "$SMOKE_DOCTOR",
              "demo": "$SMOKE_DEMO", "demo_pdfs": $DEMO_PDFS, "chroot": "$SMOKE_CHROOT"},
    "seconds": {"pyinstaller": $T_PYI, "deb": $T_DEB, "total": $T_TOTAL},
}, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY
say "Xong trong ${T_TOTAL}s"
cat "$OUT_DIR/build-report.json"
