"""The `motcua` command line: the technicians' and scripts' sub-commands (documented in
the README). Without a sub-command it starts the counter GUI, which the executable's entry
point (`ui.main`) hands in: the core never imports the Qt layer. Like the commands, it
imports the database layer only once a command runs (see `desktop_app.commands`)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_app import __version__
from desktop_app.commands import (
    calendar_cmd,
    demo_cmd,
    digitize_cmd,
    doctor_cmd,
    id_qr_cmd,
    provision_cmd,
    recover_key_cmd,
    recovery_code_cmd,
    report_cmd,
    retention_cmd,
    support_cmd,
    sync_cmd,
    training_cmd,
    update_cmd,
)

# Every command: the database cannot be opened (LAN server down, disk error, or an
# upgrade that failed and was rolled back). Nothing was changed; run it again later.
EXIT_DATABASE_UNAVAILABLE = 5
# Every command: the database refused to store anything (disk full, or read-only).
# Nothing was half-written; run it again once there is room or write permission.
EXIT_DATABASE_NOT_WRITABLE = 6


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua",
        description="Một Cửa Offline — tiếp nhận hồ sơ thủ tục hành chính không cần mạng. "
        "Chạy không tham số để mở giao diện.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="ghi nhật ký chi tiết")
    parser.add_argument("--version", action="version", version=f"motcua {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="LỆNH")
    sub.add_parser("gui", help="mở giao diện quầy (mặc định)")
    demo_cmd.add_parsers(sub)
    calendar_cmd.add_parsers(sub)
    id_qr_cmd.add_parsers(sub)
    digitize_cmd.add_parsers(sub)
    sync_cmd.add_parsers(sub)
    report_cmd.add_parsers(sub)
    provision_cmd.add_parsers(sub)
    recover_key_cmd.add_parsers(sub)
    recovery_code_cmd.add_parsers(sub)
    doctor_cmd.add_parsers(sub)
    support_cmd.add_parsers(sub)
    retention_cmd.add_parsers(sub)
    training_cmd.add_parsers(sub)
    update_cmd.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, run_gui: Callable[[], int] | None = None,
         run_training: Callable[[bool], int] | None = None,
         whole_process: bool = False) -> int:
    """Run one sub-command; ``run_gui`` starts the GUI (``motcua`` or ``motcua gui``),
    ``run_training(reset)`` the GUI in training mode (``motcua training``).

    ``whole_process`` (the executable's entry points, not a call from a test or a script):
    uncaught exceptions and native crashes go to the logs (``crash_hooks``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["gateway"]:
        # The gateway has its own command line (serve, add-station, --help …); argparse's
        # REMAINDER would not pass options such as --help through.
        from desktop_app.commands import gateway_cmd

        return gateway_cmd.run(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    from desktop_app import crash_hooks
    from desktop_app.logging_setup import CLI, GUI, SYNC, setup_logging
    from desktop_app.paths import default_data_dir

    if whole_process:  # a scheduled task has no console to show a traceback
        crash_hooks.install()

    func = getattr(args, "func", None)
    if getattr(args, "gui_mode", None) == "training" and not args.cards:
        if run_training is None:
            print("Lỗi: bản cài này không có giao diện; hãy dùng một lệnh con (motcua --help).",
                  file=sys.stderr)
            return 2
        # Its logs go to the training folder, once the training GUI has opened it.
        return run_training(args.reset)
    if func is None:
        if run_gui is None:
            print("Lỗi: bản cài này không có giao diện; hãy dùng một lệnh con (motcua --help).",
                  file=sys.stderr)
            return 2
        # Already into the GUI's file, if the data directory exists: a database that
        # cannot be opened is reported before the GUI sets up its logs and crash hooks.
        logs = _logs_dir(default_data_dir())
        setup_logging(logs, kind=GUI, verbose=args.verbose)
        return run_gui()
    # The scheduled sync has its own file (see logging_setup).
    logs = _logs_dir(getattr(args, "data_dir", None) or default_data_dir())
    setup_logging(logs, kind=SYNC if args.command == "sync" else CLI, verbose=args.verbose)
    if whole_process and logs is not None:
        crash_hooks.native_crashes_to(logs)
    from desktop_app.context import DatabaseNotWritable, DatabaseUnavailable

    try:
        return int(func(args))
    except DatabaseUnavailable as exc:
        logging.getLogger("desktop_app.cli").error("%s: %s", args_command(argv), exc.detail)
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return (EXIT_DATABASE_NOT_WRITABLE if isinstance(exc, DatabaseNotWritable)
                else EXIT_DATABASE_UNAVAILABLE)


def _logs_dir(data_dir: Path) -> Path | None:
    """Only an existing data directory gets log files: `doctor` on a fresh PC creates
    nothing."""
    return data_dir / "logs" if data_dir.is_dir() else None


def args_command(argv: Sequence[str]) -> str:
    return next((a for a in argv if not a.startswith("-")), "gui")


if __name__ == "__main__":
    sys.exit(main(whole_process=True))
