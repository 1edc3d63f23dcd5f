"""What a SANE scanner offers and what to ask it for: the option list ``scanimage -A``
prints, the device list ``scanimage -f`` prints, and the ``scanimage`` arguments that
turn a scan profile into a scan the device actually accepts (``plan_scan``). Text in,
data out: no process is started here (``sane.py`` runs ``scanimage``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from desktop_app.scanning.model import PAGE_SIZES_MM, ColourMode, ScanProfile
from desktop_app.scanning.sources.base import DeviceInfo

log = logging.getLogger(__name__)

# Mode names differ between backends; the first one the device offers wins.
_MODE_NAMES: dict[ColourMode, tuple[str, ...]] = {
    ColourMode.COLOUR: ("color", "colour", "24bit color", "rgb"),
    ColourMode.AUTO: ("color", "colour", "24bit color", "rgb"),
    ColourMode.GREY: ("gray", "grey", "grayscale", "greyscale", "8bit gray"),
    ColourMode.BILEVEL: ("lineart", "binary", "black & white", "black and white", "bw",
                         "monochrome", "halftone"),
}
PaperSource = Literal["auto", "flatbed", "feeder"]
_FLATBED = ("flatbed", "platen", "glass")
_FEEDER = ("adf", "feeder", "automatic document feeder", "document feeder", "adf front")


@dataclass(frozen=True)
class NumberConstraint:
    """A numeric option: either a list of allowed values or a min..max range with a step."""

    values: tuple[float, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float = 0.0

    def clamp(self, wanted: float) -> float:
        if self.values:
            return _nearest_not_below(self.values, wanted)
        value = wanted
        if self.high is not None:
            value = min(value, self.high)
        if self.low is not None:
            value = max(value, self.low)
            if self.step > 0:
                # round down to the step so the value stays inside the device's range
                value = self.low + ((value - self.low) // self.step) * self.step
        return value


def _nearest_not_below(values: Sequence[float], wanted: float) -> float:
    """The smallest allowed value ≥ ``wanted`` (never scan below the legal minimum dpi),
    or the largest one when the device cannot reach it."""
    above = [v for v in values if v >= wanted]
    return min(above) if above else max(values)


@dataclass
class DeviceOptions:
    modes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    resolution: NumberConstraint | None = None
    width: NumberConstraint | None = None  # -x, in mm
    height: NumberConstraint | None = None  # -y, in mm


_OPTION_LINE = re.compile(
    r"^\s{2,}(?P<name>--?[A-Za-z][\w-]*)(?:\[=\(.*?\)\])?\s+(?P<spec>.*?)\s*"
    r"\[(?P<current>[^\]]*)\]\s*$")
_RANGE = re.compile(
    r"^(?P<low>-?[\d.]+)\.\.(?P<high>-?[\d.]+)[a-z%]*(?:\s*\(in steps of (?P<step>[\d.]+)\))?")


def parse_options(text: str) -> DeviceOptions:
    """Read the device section of ``scanimage -A`` / ``--help -d DEV``."""
    opts = DeviceOptions()
    for line in text.splitlines():
        m = _OPTION_LINE.match(line)
        if not m:
            continue
        name, spec = m["name"], m["spec"]
        if name == "--mode":
            opts.modes = spec.split("|")
        elif name == "--source":
            opts.sources = spec.split("|")
        elif name == "--depth":
            opts.depths = [int(v) for v in _numbers(spec)]
        elif name == "--resolution":
            opts.resolution = _constraint(spec)
        elif name == "-x":
            opts.width = _constraint(spec)
        elif name == "-y":
            opts.height = _constraint(spec)
    return opts


def _numbers(spec: str) -> list[float]:
    out = []
    for part in spec.split("|"):
        m = re.match(r"^-?[\d.]+", part.strip())
        if m:
            out.append(float(m.group(0)))
    return out


def _constraint(spec: str) -> NumberConstraint | None:
    m = _RANGE.match(spec)
    if m:
        return NumberConstraint(low=float(m["low"]), high=float(m["high"]),
                                step=float(m["step"] or 0))
    values = _numbers(spec)
    return NumberConstraint(values=tuple(values)) if values else None


def pick_choice(offered: Sequence[str], wanted: Sequence[str]) -> str | None:
    lowered = {o.strip().lower(): o for o in offered}
    for w in wanted:
        if w in lowered:
            return lowered[w]
    return None


def parse_device_list(text: str) -> list[DeviceInfo]:
    """Lines of ``scanimage -f '%d\\t%v\\t%m\\t%t%n'``."""
    devices = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[0].strip():
            continue
        dev, vendor, model, kind = (p.strip() for p in parts)
        label = " ".join(p for p in (vendor, model) if p and p.lower() != "noname") or dev
        devices.append(DeviceInfo(id=dev, label=f"{label} ({dev})", vendor=vendor,
                                  model=model, kind=kind))
    return devices


# --- the command line ------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanPlan:
    args: list[str]
    dpi: int
    duplex: bool
    feeder: bool
    size_mm: tuple[float, float]


def plan_scan(profile: ScanProfile, opts: DeviceOptions,
              paper: PaperSource = "auto") -> ScanPlan:
    """Translate a profile into ``scanimage`` options the device actually accepts."""
    args: list[str] = []
    dpi = profile.dpi
    if opts.resolution is not None:
        dpi = round(opts.resolution.clamp(profile.dpi))
    args += ["--resolution", str(dpi)]
    args += _mode_args(profile.mode, opts)
    source, duplex, feeder = _choose_source(profile.duplex, opts.sources, paper)
    if source:
        args += ["--source", source]
    w_mm, h_mm = PAGE_SIZES_MM[profile.page_size]
    if opts.width is not None:
        w_mm = opts.width.clamp(w_mm)
    if opts.height is not None:
        h_mm = opts.height.clamp(h_mm)
    if opts.width is not None and opts.height is not None:
        args += ["-l", "0", "-t", "0", "-x", f"{w_mm:g}", "-y", f"{h_mm:g}"]
    if not feeder:
        # On a flatbed, batch mode would scan the same glass forever on many backends.
        args.append("--batch-count=1")
    return ScanPlan(args, dpi, duplex, feeder, (w_mm, h_mm))


def _mode_args(mode: ColourMode, opts: DeviceOptions) -> list[str]:
    if not opts.modes:
        return []
    chosen = pick_choice(opts.modes, _MODE_NAMES[mode])
    if chosen is not None:
        return ["--mode", chosen]
    grey = pick_choice(opts.modes, _MODE_NAMES[ColourMode.GREY])
    if mode is ColourMode.BILEVEL and grey is not None:
        # Some backends (the SANE test driver among them) express line-art as 1-bit grey.
        return ["--mode", grey] + (["--depth", "1"] if 1 in opts.depths else [])
    if grey is not None:
        return ["--mode", grey]
    log.warning("no usable mode for %s among %s; keeping the device default", mode, opts.modes)
    return []


def _choose_source(duplex: bool, sources: Sequence[str], paper: PaperSource = "auto"
                   ) -> tuple[str | None, bool, bool]:
    """(source option, duplex?, feeder?). With ``auto`` the feeder is preferred when there
    is one: the counter scans stacks, and an empty feeder is reported clearly
    (``FeederEmpty``)."""
    if not sources:
        return None, False, False
    flatbed = pick_choice(sources, _FLATBED)
    if paper == "flatbed" and flatbed is not None:
        return flatbed, False, False
    if duplex:
        for s in sources:
            if "duplex" in s.lower():
                return s, True, True
        log.warning("duplex asked but the device offers only %s", sources)
    feeder = pick_choice([s for s in sources if "duplex" not in s.lower()], _FEEDER)
    if feeder is not None:
        return feeder, False, True
    return flatbed or sources[0], False, False


__all__ = [
    "DeviceOptions",
    "NumberConstraint",
    "PaperSource",
    "ScanPlan",
    "parse_device_list",
    "parse_options",
    "pick_choice",
    "plan_scan",
]
