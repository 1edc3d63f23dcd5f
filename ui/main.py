"""The `motcua` executable: the counter GUI without arguments (or with `gui`), the
technicians' and scripts' sub-commands otherwise (`desktop_app.cli`).

This is the top of the import graph, the only place that knows both layers. Qt is
imported only when the GUI starts, so headless commands (`motcua sync --once` as a
scheduled task, `motcua doctor` on a PC whose Qt libraries are broken) run without it."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from desktop_app import cli


def run_gui() -> int:
    from ui.app import run_gui as run

    return run()


def run_training(reset: bool) -> int:
    from ui.training_app import run_training_gui

    return run_training_gui(reset=reset)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, run_gui=run_gui, run_training=run_training, whole_process=True)


if __name__ == "__main__":
    sys.exit(main())
