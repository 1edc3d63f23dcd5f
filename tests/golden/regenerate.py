"""Rewrite the golden reference images, on purpose, after an intended change to a document.

    .venv/bin/python -m tests.golden.regenerate              # every document
    .venv/bin/python -m tests.golden.regenerate apology ...  # only these
    .venv/bin/python -m tests.golden.regenerate --list       # the names

Prints each page it wrote (changed, new, removed). A page still within the comparison's
tolerance of its reference is left alone, so the working tree shows exactly the pages
that changed: look at every one of them (``git diff --stat tests/golden/reference``, an
image viewer) before committing them. ``--force`` rewrites every page."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from desktop_app.clock import FixedClock
from desktop_app.startup import open_station
from tests.golden import documents, harness


def _reissued() -> bytes:
    """The re-issued receipt from a fresh SQLite station (the test does the same on the
    run's database; both backends give the same document)."""
    with tempfile.TemporaryDirectory(prefix="motcua-golden-") as tmp:
        clock = FixedClock(documents.RECEIVED)
        ctx = open_station(Path(tmp) / "data", db_url=f"sqlite:///{Path(tmp) / 'm.db'}",
                           clock=clock)
        try:
            return documents.reissued_receipt(ctx, clock)
        finally:
            ctx.close()


def builders() -> dict[str, Callable[[], bytes]]:
    return {**documents.PLAIN, documents.REISSUED: _reissued}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.golden.regenerate",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="documents to regenerate (default: all)")
    parser.add_argument("--force", action="store_true",
                        help="rewrite every page, even those within the tolerance")
    parser.add_argument("--list", action="store_true", help="print the document names")
    args = parser.parse_args(argv)
    known = builders()
    if args.list:
        print("\n".join(known))
        return 0
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown document(s): {', '.join(unknown)}; known: {', '.join(known)}")
    report: list[str] = []
    for name in args.names or list(known):
        report += harness.write_reference(name, known[name](), force=args.force)
    print("\n".join(report) if report else "no reference page changed")
    if report:
        print("Look at every changed page before committing it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
