"""What is printed (the slip PDF, the printer, copies, paper), what came of it, and the
interface every platform's way of printing implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Paper = Literal["A4", "A5"]

# Points (1/72 in) of ISO A4 and A5, portrait.
PAPER_POINTS: dict[Paper, tuple[float, float]] = {
    "A4": (595.28, 841.89),
    "A5": (419.53, 595.28),
}
MAX_COPIES = 20


def paper_of(width_pt: float, height_pt: float) -> Paper:
    """The ISO size closest to a page of this size (either orientation)."""
    short, long = sorted((width_pt, height_pt))

    def distance(paper: Paper) -> float:
        w, h = PAPER_POINTS[paper]
        return abs(w - short) + abs(h - long)

    return min(PAPER_POINTS, key=distance)


@dataclass(frozen=True)
class PrintJob:
    pdf: bytes
    printer: str  # the name the platform knows the printer by; "" is the system default
    copies: int = 1  # how many times the whole document is printed (collated)
    paper: Paper = "A4"
    title: str = "Phiếu"  # shown in the printer's queue

    def __post_init__(self) -> None:
        if not 1 <= self.copies <= MAX_COPIES:
            raise ValueError(f"copies must be 1–{MAX_COPIES}, not {self.copies}")
        if self.paper not in PAPER_POINTS:
            raise ValueError(f"paper must be A4 or A5, not {self.paper!r}")


@dataclass(frozen=True)
class PrintOutcome:
    printer: str
    copies: int
    pages: int  # pages of one copy
    method: str  # which backend printed ("cups", "windows-gdi", "qt-raster")
    job_id: str = ""  # the spooler's id, when it gives one
    spool_bytes: int | None = None  # what the app handed to the spooler, when known
    note_vi: str = ""  # something the clerk should know although the job was accepted


class Control(Protocol):
    """Progress and Cancel of the job that calls a backend (``ui.jobs.JobControl``)."""

    def progress(self, done: int, total: int, text: str = "") -> None: ...

    def check(self) -> None:
        """Raise if the clerk cancelled."""


class NoControl:
    """For callers without progress or Cancel (benchmarks, the command line)."""

    def progress(self, done: int, total: int, text: str = "") -> None:
        pass

    def check(self) -> None:
        pass


class PrintBackend(Protocol):
    name: str

    def print_pdf(self, job: PrintJob, control: Control) -> PrintOutcome: ...
