#!/usr/bin/env bash
# Build motcua-offline_<version>_amd64.deb from the PyInstaller one-folder bundle.
#
#   bash packaging/linux/build_deb.sh [DIST_DIR] [OUT_DIR]
#
# DIST_DIR: the bundle (default dist/motcua, made by packaging/motcua.spec).
# OUT_DIR:  where the .deb goes (default dist/).
# Environment: DEB_COMPRESS (zstd|xz|gzip|none; default zstd), DEB_LEVEL (compression
# level), DEB_MAINTAINER, PYTHON (the interpreter that built the bundle, default
# .venv/bin/python: the copyright file lists its installed distributions).
# zstd -9 packs the ~340 MB bundle in ~12 s on 2 cores (~130 MB); xz -6 saves ~20 MB but
# takes ~5 minutes. dpkg reads zstd since Debian 12 / Ubuntu 21.10, which the bundle's
# glibc requirement (below) needs anyway.
#
# Layout of the package:
#   /opt/motcua-offline/                    the bundle (motcua + _internal/)
#   /usr/bin/motcua -> /opt/motcua-offline/motcua
#   /usr/share/applications/motcua-offline.desktop
#   /usr/share/icons/hicolor/{48x48,128x128,256x256}/apps/motcua-offline.png
#   /usr/share/doc/motcua-offline/copyright       DEP-5, from packaging/third_party_notices.py
#   /usr/share/doc/motcua-offline/THIRD-PARTY-NOTICES.txt   the bundle's notices
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIST_DIR=${1:-$ROOT/dist/motcua}
OUT_DIR=${2:-$ROOT/dist}
PKG=motcua-offline
ARCH=amd64
PREFIX=/opt/$PKG
COMPRESS=${DEB_COMPRESS:-zstd}
MAINTAINER=${DEB_MAINTAINER:-"Một Cửa Offline <motcua-offline@localhost>"}
PY=${PYTHON:-$ROOT/.venv/bin/python}

[ -x "$DIST_DIR/motcua" ] || { echo "không có $DIST_DIR/motcua: chạy PyInstaller trước" >&2; exit 2; }
command -v dpkg-deb >/dev/null || { echo "thiếu dpkg-deb (apt-get install dpkg-dev)" >&2; exit 127; }

# The version the frozen program reports (importlib.metadata of the bundled dist-info), so
# the package can never disagree with `motcua --version`. PEP 440 -> Debian ordering:
# 1.2.0rc1 -> 1.2.0~rc1, 1.2.0.dev3 -> 1.2.0~dev3, 1.2.0+local -> 1.2.0+local.
PY_VERSION=$("$DIST_DIR/motcua" --version | awk '{print $NF}')
VERSION=$(printf '%s' "$PY_VERSION" | sed -E 's/\.?(a|b|rc|dev)([0-9]*)/~\1\2/; s/^v//')
[ -n "$VERSION" ] || { echo "không đọc được phiên bản từ $DIST_DIR/motcua --version" >&2; exit 2; }

# The newest glibc symbol version any bundled binary uses: the bundle runs only on
# systems at least as new as the build machine (Debian 12 build -> glibc 2.36).
GLIBC_MIN=$(find "$DIST_DIR" -type f \( -name '*.so*' -o -name motcua \) \
  -exec objdump -T {} + 2>/dev/null | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sed 's/GLIBC_//' \
  | sort -V | tail -1 || true)
GLIBC_MIN=${GLIBC_MIN:-2.36}

# What the bundle takes from the system (PyInstaller bundles the rest):
#   libc6                  glibc (never bundled)
#   libgl1 libegl1         OpenGL/EGL dispatch (libglvnd; never bundled: driver specific)
#   libxcb1                X connection (PyInstaller leaves it to the system)
#   libwayland-*           Qt's Wayland platform plugin (falls back to xcb without them)
#   libzbar0               pyzbar dlopens libzbar.so.0 found via the linker cache
#   libxkbcommon-x11-0, libxcb-cursor0
#                          bundled from the build host today; depended on so the xcb
#                          platform plugin still loads if a later spec stops bundling them
#   fontconfig-config + a font with Vietnamese glyphs: Qt draws the UI with system fonts
#                          (the slips embed their own Liberation fonts)
DEPENDS="libc6 (>= $GLIBC_MIN), libgl1, libegl1, libxcb1, libwayland-client0, libwayland-cursor0,"
DEPENDS+=" libwayland-egl1, libzbar0, libxkbcommon-x11-0, libxcb-cursor0, fontconfig-config,"
DEPENDS+=" fonts-dejavu-core | fonts-liberation2 | fonts-noto-core"
RECOMMENDS="sane-utils, tesseract-ocr, tesseract-ocr-vie, desktop-file-utils"
SUGGESTS="gnome-keyring, postgresql-client"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/motcua-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R="$WORK/root"
mkdir -p "$R$PREFIX" "$R/usr/bin" "$R/usr/share/applications" "$R/usr/share/doc/$PKG" \
  "$R/DEBIAN"

cp -a "$DIST_DIR/." "$R$PREFIX/"
ln -s "$PREFIX/motcua" "$R/usr/bin/motcua"
install -m 644 "$HERE/motcua-offline.desktop" "$R/usr/share/applications/$PKG.desktop"

ICON="$HERE/motcua.png"
[ -f "$ICON" ] || "$PY" "$ROOT/packaging/make_icons.py" >/dev/null
for size in 48 128 256; do
  d="$R/usr/share/icons/hicolor/${size}x${size}/apps"
  mkdir -p "$d"
  if [ "$size" = 256 ]; then
    install -m 644 "$ICON" "$d/$PKG.png"
  else
    "$PY" - "$ICON" "$d/$PKG.png" "$size" <<'PY'
import sys
from PIL import Image
src, dst, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
Image.open(src).resize((size, size), Image.Resampling.LANCZOS).save(dst, optimize=True)
PY
    chmod 644 "$d/$PKG.png"
  fi
done

# debian/copyright (DEP-5) and the plain-text notices, from the same generator and the
# same installed distributions as the bundle's THIRD-PARTY-NOTICES.txt.
"$PY" "$ROOT/packaging/third_party_notices.py" \
  --output "$R/usr/share/doc/$PKG/THIRD-PARTY-NOTICES.txt" \
  --debian-copyright "$R/usr/share/doc/$PKG/copyright" \
  --bundle-prefix "${PREFIX#/}/_internal" >/dev/null
chmod 644 "$R/usr/share/doc/$PKG/copyright" "$R/usr/share/doc/$PKG/THIRD-PARTY-NOTICES.txt"

# dpkg-deb refuses group/world-writable control scripts; keep the modes explicit.
install -m 755 "$HERE/debian/postinst" "$R/DEBIAN/postinst"
install -m 755 "$HERE/debian/prerm" "$R/DEBIAN/prerm"
INSTALLED_KB=$(du -sk --exclude=DEBIAN "$R" | awk '{print $1}')
cat >"$R/DEBIAN/control" <<EOF
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $INSTALLED_KB
Depends: $DEPENDS
Recommends: $RECOMMENDS
Suggests: $SUGGESTS
Section: misc
Priority: optional
Description: Một Cửa Offline - one-stop counter for Vietnamese communes
 Tiếp nhận hồ sơ thủ tục hành chính tại bộ phận một cửa cấp xã, không cần mạng:
 chọn thủ tục từ danh mục của tỉnh, quét mã QR căn cước, in phiếu tiếp nhận và hẹn
 trả kết quả, số hóa thành phần hồ sơ và đồng bộ lên hệ thống một cửa của tỉnh.
 .
 Self-contained PyInstaller bundle installed in $PREFIX; the command is
 /usr/bin/motcua (GUI without arguments; demo, sync, digitize... for technicians).
EOF

mkdir -p "$OUT_DIR"
DEB="$OUT_DIR/${PKG}_${VERSION}_${ARCH}.deb"
case "$COMPRESS" in
  xz) zopt=(-Zxz -z${DEB_LEVEL:-6}) ;;
  gzip) zopt=(-Zgzip -z6) ;;
  zstd) zopt=(-Zzstd -z${DEB_LEVEL:-9}) ;;
  none) zopt=(-Znone) ;;
  *) echo "DEB_COMPRESS không hợp lệ: $COMPRESS" >&2; exit 2 ;;
esac
# --root-owner-group: files owned by root in the package without fakeroot.
dpkg-deb --root-owner-group "${zopt[@]}" --build "$R" "$DEB" >/dev/null
echo "$DEB"
