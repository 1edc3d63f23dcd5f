"""Run a module as a program in an install that lacks some packages (an extra left out):

    python tests/support/without_modules.py fastapi,uvicorn -m desktop_app.cli doctor
    python tests/support/without_modules.py fastapi,uvicorn --import-all desktop_app ui

Importing a named package (or any module under it) raises ModuleNotFoundError, as it
would where pip never installed it. `--import-all` imports every module of the given
packages and prints the blocked packages that something tried to import, one a line."""

from __future__ import annotations

import importlib
import importlib.abc
import pkgutil
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# The checkout this file is in, as `python -m` from its root would see it.
ROOT = Path(__file__).resolve().parents[2]

ATTEMPTS: list[str] = []


class Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, names: Sequence[str]) -> None:
        self.names = set(names)

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None
                  ) -> None:
        root = fullname.partition(".")[0]
        if root in self.names:
            ATTEMPTS.append(root)
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def block(names: Sequence[str]) -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in names:
            del sys.modules[name]
    sys.meta_path.insert(0, Blocker(names))


def import_all(packages: Sequence[str]) -> None:
    for package in packages:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if ".migrations" in info.name:  # alembic scripts: data, not modules
                continue
            importlib.import_module(info.name)
    for name in sorted(set(ATTEMPTS)):
        print(name)


def main(argv: list[str]) -> None:
    sys.path[0] = str(ROOT)
    names = [n for n in argv[0].split(",") if n]
    block(names)
    if argv[1] == "--import-all":
        import_all(argv[2:])
        return
    assert argv[1] == "-m", argv
    sys.argv = [argv[2], *argv[3:]]
    runpy.run_module(argv[2], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
