"""Entry point of the frozen `motcua` executable (PyInstaller bundle).

Same as the `motcua` console script (`ui.main:main`), plus
`multiprocessing.freeze_support()`: `motcua digitize -j N` uses a spawn-context process
pool, and in a frozen app the worker processes are this executable started again with
`--multiprocessing-fork`; freeze_support() turns such a start into a worker instead of a
second copy of the CLI (PyInstaller's runtime hook makes it work on Linux too).

The crash hooks come first: the windowed build has no console, so an exception while
importing the application (a missing DLL) would otherwise vanish; it goes to the default
data directory's log instead (`desktop_app.crash_hooks`)."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from desktop_app import crash_hooks

    crash_hooks.install()
    from ui.main import main

    sys.exit(main())
