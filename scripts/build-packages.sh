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
#   SHA256SUMS                           of the .deb (add the Windows installer's)
#
# Environment:
#   PYTHON                 interpreter with the app installed (default .venv/bin/python)
#   OUT_DIR, WORK_DIR      outputs / PyInstaller work folder (default dist/, build/pyinstaller)
#   DEB_COMPRESS           see packaging/linux/build_deb.sh (default zstd)
#   SMOKE_ALLOW_DOCTOR_FAILURE=1   report `motcua doctor` failures (exit 2) without failing
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
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
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
# The locked versions with their hashes (the app's runtime, gateway and postgresql
# extras, PyInstaller): what is already installed at the locked version stays as it is.
echo "Cài theo packaging/requirements-lock.txt (kiểm tra mã băm)"
"$PY" -m pip install -q --require-hashes -r packaging/requirements-lock.txt
"$PY" -m pip install -q --no-deps -e .
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
SMOKE_ZBAR="skipped"; SMOKE_PROVISION="skipped"
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

  has_command() { run "$S/bin/motcua" --help | grep -qE "^ +$1( |\$)"; }

  # `motcua provision FILE`, as the Windows installer's /PROVISION= runs it, on the data
  # directory of this "fresh PC" ($MOTCUA_DATA_DIR), with a minimal station file.
  if has_command provision; then
    cat >"$S/provision.json" <<'JSON'
{"agency_code": "000.00.12.H12", "agency_name": "UBND XÃ NÀ PHẶC",
 "parent_name": "UBND TỈNH THÁI NGUYÊN", "place_name": "Nà Phặc", "station_digit": 1,
 "technician": {"username": "kythuat", "full_name": "Kỹ thuật viên kiểm thử"}}
JSON
    run "$S/bin/motcua" provision "$S/provision.json" >"$S/provision.out" 2>&1 \
      || { cat "$S/provision.out"; fail "motcua provision"; }
    SMOKE_PROVISION="ok"
    echo "motcua provision: đã áp dụng tệp cấu hình mẫu"
  else
    SMOKE_PROVISION="absent"
    echo "BỎ QUA: lệnh 'motcua provision' chưa có trong phiên bản này"
  fi

  # `motcua doctor`: 0 all good, 1 warnings (no printer, no gateway on a build machine),
  # 2 failures.
  if has_command doctor; then
    set +e
    run "$S/bin/motcua" doctor --json >"$S/doctor.json"; rc=$?
    set -e
    "$PY" - "$S/doctor.json" <<'PY' || true
import json, sys
try:
    report = json.load(open(sys.argv[1], encoding="utf-8"))
except ValueError:
    sys.exit(print(open(sys.argv[1], encoding="utf-8").read()))
for c in report.get("checks", []):
    print(f"  doctor {c.get('status', '?'):5} {c.get('id')}: {c.get('message_vi', '')}")
PY
    if [ "$rc" -le 1 ]; then
      SMOKE_DOCTOR="ok"
      echo "motcua doctor: mã $rc (0 đạt, 1 chỉ có cảnh báo)"
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

  # zbar: the bundle reads QR codes through the system's libzbar0 (Linux Depends)
  "$PY" - "$S/qr.png" <<'PY'
import sys
import numpy as np
import zxingcpp
from PIL import Image, ImageOps
payload = ("019190001234|095123456|Hoàng Thị Mai|12031992|Nữ|"
           "Thôn Nà Lẹng, xã Nà Phặc, tỉnh Thái Nguyên|20042021")
code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode)
img = Image.fromarray(np.array(zxingcpp.write_barcode_to_image(code, scale=6))).convert("L")
ImageOps.expand(img, 40, fill=255).save(sys.argv[1])
PY
  run "$S/bin/motcua" id-qr "$S/qr.png" --json >"$S/qr.json" || fail "motcua id-qr (zbar)"
  grep -q '"id_number": "019190001234"' "$S/qr.json" || fail "id-qr: $(cat "$S/qr.json")"
  SMOKE_ZBAR="ok"
  echo "motcua id-qr ảnh QR (zbar): đọc đúng"

  if [ -n "${MOTCUA_SMOKE_CHROOT:-}" ]; then
    say "Cài thật bằng apt vào $MOTCUA_SMOKE_CHROOT"
    C=$(cd "$MOTCUA_SMOKE_CHROOT" && pwd)
    [ "$C" != / ] && [ -x "$C/usr/bin/apt-get" ] || fail "$MOTCUA_SMOKE_CHROOT không phải thư mục gốc Debian"
    cp "$DEB" "$C/tmp/"
    cp "$S/qr.png" "$C/tmp/motcua-qr.png"
    [ -f "$S/provision.json" ] && cp "$S/provision.json" "$C/tmp/motcua-provision.json"
    debname=$(basename "$DEB")
    cat >"$C/tmp/motcua-smoke.sh" <<EOF
set -e
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends /tmp/$debname >/dev/null
motcua --version
export QT_QPA_PLATFORM=offscreen MOTCUA_DATA_DIR=/tmp/motcua-smoke-data
rm -rf /tmp/motcua-smoke-data /tmp/motcua-smoke-demo
motcua demo --out /tmp/motcua-smoke-demo >/dev/null
echo "demo: \$(ls /tmp/motcua-smoke-demo/*.pdf | wc -l) PDF"
motcua id-qr /tmp/motcua-qr.png --json | grep -q 019190001234 && echo "id-qr: ok"
if [ -f /tmp/motcua-provision.json ]; then
  motcua provision /tmp/motcua-provision.json >/dev/null && echo "provision: ok"
  rc=0; motcua doctor >/dev/null || rc=\$?
  echo "doctor: \$rc"; [ "\$rc" -le 1 ]
fi
EOF
    mounted=()
    for m in proc dev; do
      if ! mountpoint -q "$C/$m"; then mount --bind "/$m" "$C/$m" && mounted+=("$C/$m"); fi
    done
    set +e
    chroot "$C" /bin/sh /tmp/motcua-smoke.sh
    rc=$?
    set -e
    for m in "${mounted[@]}"; do umount "$m" || true; done
    [ "$rc" -eq 0 ] || fail "cài vào chroot (mã $rc)"
    SMOKE_CHROOT="ok"
  fi
fi

# ------------------------------------------------------------------ report
# the release's checksums: the .deb (the STANDIN setup program is never published)
(cd "$OUT_DIR" && sha256sum "$(basename "$DEB")" >SHA256SUMS)
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
    "smoke": {"version": "$SMOKE_VERSION", "provision": "$SMOKE_PROVISION",
              "doctor": "$SMOKE_DOCTOR",
              "demo": "$SMOKE_DEMO", "demo_pdfs": $DEMO_PDFS, "zbar": "$SMOKE_ZBAR",
              "chroot": "$SMOKE_CHROOT"},
    "seconds": {"pyinstaller": $T_PYI, "deb": $T_DEB, "total": $T_TOTAL},
}, open(sys.argv[1], "w", encoding="utf-8"), ensure_ascii=False, indent=2)
PY
say "Xong trong ${T_TOTAL}s"
cat "$OUT_DIR/build-report.json"
