"""Open a training session in a process of its own and say how it went: a DomainError's
Vietnamese message on stderr and exit 2, or "opened" (used by tests/test_optional_extras.py
with the gateway extra blocked)."""

from __future__ import annotations

import sys
from pathlib import Path

from desktop_app.domain.errors import DomainError
from desktop_app.training.session import open_training


def main(training_root: str, station_dir: str) -> int:
    try:
        session = open_training(Path(training_root), Path(station_dir), ticker=False)
    except DomainError as exc:
        print(exc.message_vi, file=sys.stderr)
        return 2
    session.close()
    print("opened")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
