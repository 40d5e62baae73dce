"""A PostgreSQL server of the tests' own: Debian's binaries (`make test` installs them), a
cluster in a temporary folder owned by an unprivileged user (initdb refuses root, and CI runs
as root), listening on a free loopback port, stopped when the tests end."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

USER = "renewal"  # the cluster's superuser (trust authentication on loopback only)


def binaries() -> Path:
    """Debian's newest PostgreSQL bin folder."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One running cluster: `url(name)` for a database on it."""

    def __init__(self) -> None:
        # its own folder under /tmp: pytest's are private to root, and the server is not root
        self.folder = Path(tempfile.mkdtemp(prefix="renewal-pg-"))
        folder = self.folder
        self.data = folder / "data"
        self.port = _free_port()
        self.bin = binaries()
        self.run_as: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            account = "postgres" if _exists("postgres") else "nobody"
            self.run_as = ["runuser", "-u", account, "--"]
            shutil.chown(folder, user=account)
        self._start()

    def _run(self, *args: str) -> None:
        subprocess.run([*self.run_as, *args], check=True, capture_output=True, cwd=self.folder)

    def _start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER,
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.folder / "server.log"), "-w", "start")  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url("postgres"), autocommit=True)

    def create(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); its URL."""
        with self.admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if template:
                con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            else:
                con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop(self, name: str) -> None:
        with self.admin() as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if not self.folder.exists():
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _exists(account: str) -> bool:
    try:
        pwd.getpwnam(account)
    except KeyError:
        return False
    return True
