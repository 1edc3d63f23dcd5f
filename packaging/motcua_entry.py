"""Entry point of the frozen `motcua` executable (PyInstaller bundle).

Same as the `motcua` console script (`ui.main:main`), plus
`multiprocessing.freeze_support()`: `motcua digitize -j N` uses a spawn-context process
pool, and in a frozen app the worker processes are this executable started again with
`--multiprocessing-fork`; freeze_support() turns such a start into a worker instead of a
second copy of the CLI (PyInstaller's runtime hook makes it work on Linux too)."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from ui.main import main

    sys.exit(main())
