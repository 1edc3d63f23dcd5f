"""Third-party notices of the release bundle, generated from the installed distributions.

    python packaging/third_party_notices.py [--output FILE] [--debian-copyright FILE]
                                            [--bundle-prefix PATH]

Run it with the interpreter that builds the bundle (packaging/motcua.spec and
packaging/linux/build_deb.sh do): the notices list exactly what that environment holds.

What is listed:
  * the distributions the application needs at run time: the requirement tree of
    motcua-offline's own metadata (markers evaluated for this platform) with the extras
    the bundle carries when they are installed (gateway: FastAPI and uvicorn for
    `motcua gateway`; postgresql: psycopg for the LAN server mode; never test), plus the
    PyInstaller bootloader inside the executables; each with its version, its license
    expression (License-Expression, else License, else the trove classifiers) and the
    license files it ships (dist-info/licenses/, LICENSE*, COPYING*, NOTICE*);
  * what has no Python metadata: Qt (inside the PySide6 wheels), FFmpeg (Qt's multimedia
    plugin, when the wheel carries libavcodec), zbar, Python itself, the Liberation fonts.
    Tesseract is not bundled (a system install found at run time), so it is not listed.

The output depends only on the installed files (sorted, no dates): the same environment
gives the same bytes. Writes THIRD-PARTY-NOTICES.txt (plain text) and, with
--debian-copyright, the same data as a machine-readable debian/copyright (DEP-5).
"""

from __future__ import annotations

import argparse
import re
import sys
import sysconfig
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LICENSES = ROOT / "packaging" / "licenses"
FONTS = ROOT / "resources" / "fonts"
APP = "motcua-offline"
HOLDER = "Một Cửa Offline contributors"
# Extras of the app that packaging/motcua.spec bundles when they are installed (the
# builds install them from packaging/requirements-lock.txt).
BUNDLED_EXTRAS = ("gateway", "postgresql")
# In the executables (bootloader) and the archive (runtime hooks), not its dependencies.
BOOTLOADER = "pyinstaller"
_LICENSE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|NOTICE)", re.IGNORECASE)
# "Copyright (c) 2018 Alex", "(C) 2007 Free Software Foundation"; not "COPYRIGHT HOLDERS BE"
_COPYRIGHT_LINE = re.compile(r"^\s*(Copyright\b\s*(\(c\)|©)?|\(c\)|©)\s*\d{4}", re.IGNORECASE)


@dataclass
class Component:
    """One entry of the notices: a distribution or a library without Python metadata."""

    name: str
    version: str
    license: str  # an SPDX expression where the metadata gives one
    texts: list[tuple[str, str]] = field(default_factory=list)  # (label, text)
    note: str = ""
    paths: list[str] = field(default_factory=list)  # top-level names inside the bundle
    copyright: str = ""


def _clean(text: str) -> str:
    """Line endings, trailing blanks and the final newline normalised (same bytes on
    every OS)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n")
             .lstrip("\ufeff").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _read(path: Path) -> str:
    return _clean(path.read_text(encoding="utf-8", errors="replace"))


# ------------------------------------------------------------------ distributions
def _runtime_names() -> list[str]:
    """Canonical names of the runtime requirement tree (breadth first, markers evaluated
    with the extras each requirement asks for and nothing else; the app's own bundled
    extras only as far as they are installed)."""
    seen: dict[str, set[str]] = {}
    todo: list[tuple[str, set[str]]] = [(APP, set())]
    for spec in metadata.distribution(APP).requires or []:
        req = Requirement(spec)
        if (req.marker is not None and not req.marker.evaluate({"extra": ""})
                and any(req.marker.evaluate({"extra": e}) for e in BUNDLED_EXTRAS)
                and canonicalize_name(req.name) != canonicalize_name(APP)
                and _installed(req.name)):
            todo.append((req.name, set(req.extras)))
    while todo:
        name, extras = todo.pop(0)
        key = canonicalize_name(name)
        if key in seen and extras <= seen[key]:
            continue
        seen.setdefault(key, set()).update(extras)
        dist = metadata.distribution(name)  # missing: the app could not run either
        for spec in dist.requires or []:
            req = Requirement(spec)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": e}) for e in sorted(extras) or [""])
            if wanted:
                todo.append((req.name, set(req.extras)))
    names = sorted(seen)
    if _installed(BOOTLOADER):
        names.append(BOOTLOADER)
    return sorted(set(names) - {APP})


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _expression(meta: metadata.PackageMetadata) -> str:
    if meta.get("License-Expression"):
        return str(meta["License-Expression"]).strip()
    raw = (meta.get("License") or "").strip()
    if raw and "\n" not in raw and len(raw) <= 100 and raw.upper() != "UNKNOWN":
        return raw
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    return " AND ".join(sorted(set(classifiers))) or "see the license text"


def _license_files(dist: metadata.Distribution) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for f in dist.files or []:
        parts = PurePosixPath(str(f)).parts
        in_licenses = any(p.endswith((".dist-info", ".egg-info")) for p in parts[:-1]) and (
            "licenses" in parts or "license_files" in parts)
        if (in_licenses or _LICENSE_NAME.match(parts[-1])) and not parts[-1].endswith(
                (".py", ".pyc", ".pyi", ".so", ".dll", ".pyd")):
            path = Path(str(dist.locate_file(f)))
            if path.is_file():
                out[str(PurePosixPath(*parts))] = _read(path)
    return sorted(out.items())


def _top_levels(dist: metadata.Distribution) -> list[str]:
    tops = {PurePosixPath(str(f)).parts[0] for f in dist.files or []}
    return sorted(t for t in tops if not t.endswith((".dist-info", ".egg-info", ".data"))
                  and t not in ("..", "__pycache__") and not t.endswith(".pth"))


def _copyright(texts: list[tuple[str, str]], meta: metadata.PackageMetadata) -> str:
    lines: list[str] = []
    for _, text in texts:
        for line in text.split("\n"):
            if _COPYRIGHT_LINE.match(line) and line.strip() not in lines and len(lines) < 8:
                lines.append(line.strip())
    if lines:
        return "\n".join(lines)
    who = meta.get("Author") or meta.get("Author-email") or meta.get("Maintainer") or ""
    who = who or meta.get("Maintainer-email") or ""
    return who.strip() or f"the {meta['Name']} authors"


def distribution_components() -> list[Component]:
    out = []
    for name in _runtime_names():
        dist = metadata.distribution(name)
        meta = dist.metadata
        texts = _license_files(dist)
        expression = _expression(meta)
        if not texts:  # the PySide6 wheels: the texts of the licenses they name
            texts = _vendored(*[f for spdx, f in _VENDORED.items() if spdx in expression])
        note = ""
        if name == BOOTLOADER:
            note = ("Only its bootloader (the executables) and runtime hooks are in the "
                    "bundle; the bootloader exception of its license applies.")
        out.append(Component(name=meta["Name"], version=dist.version,
                             license=expression, texts=texts, note=note,
                             paths=_top_levels(dist), copyright=_copyright(texts, meta)))
    return out


# --------------------------------------------- components without Python metadata
_VENDORED = {"LGPL-2.1": "LGPL-2.1.txt", "LGPL-3.0": "LGPL-3.0.txt", "GPL-3.0": "GPL-3.0.txt"}


def _vendored(*names: str) -> list[tuple[str, str]]:
    return [(f"packaging/licenses/{n}", _read(LICENSES / n)) for n in names]


def _qt_files() -> list[Path]:
    try:
        dist = metadata.distribution("PySide6-Essentials")
    except metadata.PackageNotFoundError:
        return []
    files = [Path(str(dist.locate_file(f))) for f in dist.files or []]
    try:
        addons = metadata.distribution("PySide6-Addons")
        files += [Path(str(addons.locate_file(f))) for f in addons.files or []]
    except metadata.PackageNotFoundError:
        pass
    return sorted(files)


def qt_component(qt_files: list[Path]) -> Component | None:
    try:
        version = metadata.version("PySide6-Essentials")
    except metadata.PackageNotFoundError:
        return None
    # The wheels carry no license files today; should a later one ship Qt's LICENSES
    # folder, those texts are the authoritative ones.
    shipped = [(f"PySide6/{'/'.join(p.parts[p.parts.index('Qt'):])}", _read(p))
               for p in qt_files if "LICENSES" in p.parts and "Qt" in p.parts and p.is_file()]
    texts = shipped or _vendored("LGPL-3.0.txt", "GPL-3.0.txt")
    return Component(
        name="Qt", version=version, license="LGPL-3.0-only", texts=texts,
        paths=["PySide6/Qt"], copyright="Copyright (C) The Qt Company Ltd. and other contributors",
        note=("The Qt 6 libraries and plugins inside the PySide6 wheels, used under the "
              "LGPL-3.0 as shared libraries the user may replace. Qt's own third-party "
              "parts are listed at https://doc.qt.io/qt-6/licenses-used-in-qt.html ; "
              f"the corresponding source is at https://download.qt.io/official_releases/qt/ "
              f"(Qt {version})."))


def ffmpeg_component(qt_files: list[Path]) -> Component | None:
    """Qt's FFmpeg multimedia backend ships FFmpeg's libraries (an LGPL build)."""
    pattern = re.compile(r"^(?:lib)?(avcodec|avformat|avutil|swresample|swscale)[-.]")
    found = sorted(p for p in qt_files if pattern.match(p.name))
    libs = sorted({p.name for p in found})
    if not libs:
        return None
    version = next((m.group(1) for n in libs
                    if (m := re.match(r"^libavcodec\.so\.(\d+\.\d+\.\d+)$", n))), "")
    version = version or next((m.group(1) for n in libs
                               if (m := re.match(r"^avcodec-(\d+)\.dll$", n))), "")
    # FFmpeg states its build's license inside libavcodec; a GPL build would change ours.
    stated = ""
    for lib in found:
        if lib.name.startswith(("libavcodec", "avcodec")) and lib.is_file():
            m = re.search(rb"libavcodec license: ([ -~]{3,60})\0", lib.read_bytes())
            stated = m.group(1).decode("ascii") if m else stated
            break
    if stated and stated != "LGPL version 2.1 or later":
        raise SystemExit(f"third_party_notices: libavcodec says its license is {stated!r}; "
                         "review the notices and the application's license")
    return Component(
        name="FFmpeg", version=f"libavcodec {version}" if version else "see libavcodec",
        license="LGPL-2.1-or-later", texts=_vendored("LGPL-2.1.txt"),
        paths=sorted({"/".join(p.parts[p.parts.index("PySide6"):]) for p in found}),
        copyright="Copyright (C) the FFmpeg developers",
        note=("Shipped in the PySide6 wheel for Qt's multimedia plugin (the camera): "
              + ", ".join(libs) + (f' (libavcodec says: "{stated}")' if stated else "")
              + ". Source: https://ffmpeg.org/download.html"))


def zbar_component() -> Component:
    try:
        dist = metadata.distribution("pyzbar")
        dlls = sorted(PurePosixPath(str(f)).name for f in dist.files or []
                      if str(f).lower().endswith(".dll"))
    except metadata.PackageNotFoundError:
        dlls = []
    if dlls:
        note = ("Shipped as " + ", ".join(dlls) + " inside pyzbar (libiconv: LGPL-2.1-or-"
                "later too). Source: https://github.com/mchehab/zbar")
        paths = ["pyzbar"]
    else:
        note = ("Not bundled here: the program loads the system's libzbar (the Debian "
                "package libzbar0). Source: https://github.com/mchehab/zbar")
        paths = []
    return Component(name="zbar", version="libzbar 0", license="LGPL-2.1-or-later",
                     texts=_vendored("LGPL-2.1.txt"), note=note, paths=paths,
                     copyright="Copyright (C) 2007-2010 Jeff Brown and the zbar contributors")


def fonts_component() -> Component:
    readme = (FONTS / "README.txt").read_text(encoding="utf-8")
    m = re.search(r"Liberation Fonts (\d+(?:\.\d+)+)", readme)
    text = _read(FONTS / "LICENSE-Liberation.txt")
    return Component(
        name="Liberation Fonts", version=m.group(1) if m else "", license="OFL-1.1",
        texts=[("resources/fonts/LICENSE-Liberation.txt", text)], paths=["resources/fonts"],
        copyright="\n".join(dict.fromkeys(
            line.strip() for line in text.split("\n") if _COPYRIGHT_LINE.match(line)))
        or "Copyright (c) Red Hat, Inc.",
        note="TrueType files embedded in the printed slips (resources/fonts/).")


def python_component() -> Component:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    candidates = [stdlib / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt"]
    texts = [(f"Python {sys.version_info.major}.{sys.version_info.minor}/LICENSE.txt",
              _read(p)) for p in candidates[:] if p.is_file()][:1]
    return Component(
        name="Python", version=".".join(map(str, sys.version_info[:3])), license="PSF-2.0",
        texts=texts, paths=["base_library.zip"],
        copyright="Copyright (c) 2001 Python Software Foundation; All Rights Reserved",
        note="The interpreter and standard library the bundle carries (PyInstaller).")


def collect() -> list[Component]:
    """Every component, distributions first (sorted by name), then the others."""
    qt_files = _qt_files()
    others = [qt_component(qt_files), ffmpeg_component(qt_files), zbar_component(),
              fonts_component(), python_component()]
    dists = sorted(distribution_components(), key=lambda c: canonicalize_name(c.name))
    return dists + [c for c in others if c is not None]


# ------------------------------------------------------------------------ outputs
def _app_version() -> str:
    try:
        return metadata.version(APP)
    except metadata.PackageNotFoundError:
        return "source tree"


def render_text(components: list[Component]) -> str:
    title = f"Third-party software in Một Cửa Offline {_app_version()}"
    out = [title, "=" * len(title), "",
           f"Một Cửa Offline itself: Copyright (C) {HOLDER}, GPL-3.0-or-later (LICENSE.txt).",
           "This file is generated by packaging/third_party_notices.py from the installed",
           "distributions of the build; do not edit it by hand.", "", "Index", "-----"]
    width = max(len(f"{c.name} {c.version}") for c in components)
    for c in components:
        out.append(f"  {f'{c.name} {c.version}':<{width}}  {c.license}")
    printed: dict[str, str] = {}  # text -> where it was printed first
    for c in components:
        head = f"{c.name} {c.version}"
        out += ["", "", head, "=" * len(head), f"License: {c.license}"]
        if c.note:
            out.append(f"Note: {c.note}")
        if not c.texts:
            out.append("License text: none shipped with the distribution; see the license "
                       "named above.")
        for label, text in c.texts:
            if text in printed:
                out.append(f"License text {label}: identical to {printed[text]} above.")
                continue
            printed[text] = f"{label} ({head})"
            out += ["", f"--- {label}", "", text.rstrip("\n")]
    return "\n".join(out) + "\n"


def _dep5_text(text: str) -> str:
    return "\n".join(" " + line if line.strip() else " ." for line in text.rstrip("\n")
                     .split("\n"))


def _dep5_license(expression: str) -> str:
    return (expression.replace(" OR ", " or ").replace(" AND ", " and ")
            .replace(" WITH ", " with ").replace("\n", " "))


def render_debian_copyright(components: list[Component], prefix: str) -> str:
    """DEP-5 (https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/); each
    Files paragraph carries its license texts; components with the same license and
    texts (the PySide6 wheels) share a paragraph."""
    app_license = _read(ROOT / "LICENSE")
    out = ["Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
           f"Upstream-Name: {APP}",
           "Comment: Một Cửa Offline bundled with PyInstaller, with Python, Qt 6 / PySide6 and",
           " the libraries below, in " + prefix.rstrip("/") + "/ (pure-Python modules",
           " are in the executable's archive rather than under the paths named).",
           f" /usr/share/doc/{APP}/THIRD-PARTY-NOTICES.txt is generated from the same data.",
           "", "Files: *", f"Copyright: 2026 {HOLDER}", "License: GPL-3.0-or-later",
           _dep5_text(app_license)]
    groups: dict[tuple[str, tuple[str, ...]], list[Component]] = {}
    for c in components:
        groups.setdefault((c.license, tuple(t for _, t in c.texts)), []).append(c)
    for (expression, texts), members in groups.items():
        paths = sorted({f"{prefix.rstrip('/')}/{p}" + ("" if "." in p.rsplit("/", 1)[-1]
                                                      and not p.endswith(".libs") else "/*")
                        for c in members for p in c.paths})
        if not paths:  # zbar on Linux: a dependency, not a file of this package
            continue
        copyrights = list(dict.fromkeys(
            line for c in members for line in c.copyright.split("\n") if line.strip()))
        out += ["", "Files: " + "\n ".join(paths),
                "Copyright: " + "\n ".join(copyrights),
                "License: " + _dep5_license(expression)]
        out.append(_dep5_text("\n\n".join(texts)) if texts else
                   " The distribution ships no license text; see the license named above.")
        comment = "; ".join(f"{c.name} {c.version}" + (f": {c.note}" if c.note else "")
                            for c in members)
        out.append("Comment: " + comment.replace("\n", " "))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", type=Path, default=ROOT / "THIRD-PARTY-NOTICES.txt")
    parser.add_argument("--debian-copyright", type=Path)
    parser.add_argument("--bundle-prefix", default=f"opt/{APP}/_internal",
                        help="where the bundle's files are, for the DEP-5 Files fields")
    args = parser.parse_args(argv)
    components = collect()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(render_text(components).encode("utf-8"))
    print(f"third_party_notices: {len(components)} components -> {args.output}")
    if args.debian_copyright:
        args.debian_copyright.parent.mkdir(parents=True, exist_ok=True)
        args.debian_copyright.write_bytes(
            render_debian_copyright(components, args.bundle_prefix).encode("utf-8"))
        print(f"third_party_notices: DEP-5 copyright -> {args.debian_copyright}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
