"""A real Streamlit server on a free loopback port and Debian's headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.access import users
from core.demo import build_demo
from core.demo.courses import build_courses
from core.store import db, migrations

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The README's screenshots: refreshed with UPDATE_SCREENSHOTS=1 (or when missing), so an
# ordinary test run leaves the work tree clean; every run also keeps its own under artifacts/.
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not (ROOT / "docs" / "screenshots").exists()
    else ROOT / "tests" / "e2e" / "artifacts"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class App:
    """`streamlit run app.py` on a free loopback port over `database` (a DuckDB file or a
    PostgreSQL URL); its output goes to `log`. Started at once: `wait()` until it answers."""

    def __init__(self, database: str | Path, log: Path) -> None:
        self.log_path = log
        self.log = log.open("wb")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            db.DB_ENV: str(database),
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait(self) -> str:
        """Its address, once its health check answers."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return self.url
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not start: " + self.log_path.read_text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The app on a small demo database, served on 127.0.0.1; stopped after the module."""
    path = tmp_path_factory.mktemp("e2e") / "e2e.duckdb"
    with db.connect(path) as con:
        migrations.migrate(con)
        build_demo(con, members=3000, seed=42, today=dt.date.today())
        build_courses(con, members=3000, seed=42, today=dt.date.today())
        users.ensure_demo_users(con)
    app = App(path, path.parent / "streamlit.log")
    yield app.wait(), path
    app.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP")  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(20_000)
    expect.set_options(timeout=20_000)  # a loaded 2-core machine renders slowly
    yield page
    context.close()
