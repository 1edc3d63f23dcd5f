"""A throw-away PostgreSQL cluster on loopback for the benchmarks (fsync on, as a
commune's server; initdb as the postgres user when run as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pg_cluster() -> Iterator[str]:
    roots = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    bindir = Path(shutil.which("pg_ctl") or roots[0] / "pg_ctl").parent
    base = Path(tempfile.mkdtemp(prefix="motcua-bench-pg-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]

    def run(*cmd: str) -> None:
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, cwd=base)

    run(str(bindir / "initdb"), "-D", str(base / "data"), "-U", "motcua", "--auth=trust",
        "-E", "UTF8", "--locale=C.UTF-8")
    run(str(bindir / "pg_ctl"), "-D", str(base / "data"), "-l", str(base / "log"), "-w",
        "-o", f"-c listen_addresses=127.0.0.1 -c port={port} "
        f"-c unix_socket_directories={base}", "start")
    try:
        yield f"postgresql+psycopg://motcua@127.0.0.1:{port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(base / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """An empty database ``name`` on ``server``; its URL."""
    import psycopg

    host, port = server.rsplit("@", 1)[1].split(":")
    with psycopg.connect(host=host, port=int(port), user="motcua", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
