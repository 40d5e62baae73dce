"""App cold start: seconds from launching Streamlit to the first rendered page in Chromium.

Usage: python bench/bench_startup.py --db bench/out/full.duckdb
Measures (1) process start → the log-in form visible, and (2) log-in → the home page's
figures rendered over the whole database (the first page staff see).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
from pathlib import Path

from common import OUT, PYTHON, ROOT, record
from playwright.sync_api import expect, sync_playwright

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo-pass-2026")
    args = parser.parse_args()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        started = time.perf_counter()
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
            ],
            cwd=ROOT,
            env={**os.environ, "RENEWAL_DB": str(args.db)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}", timeout=2000)
                    break
                except Exception:
                    time.sleep(0.1)
            expect(page.get_by_label("ユーザーID")).to_be_visible(timeout=60_000)
            first_page = time.perf_counter() - started
            page.get_by_label("ユーザーID").fill(args.user)
            page.get_by_label("パスワード").fill(args.password)
            login = time.perf_counter()
            page.get_by_role("button", name="ログイン").click()
            expect(page.get_by_text("会員数（担当範囲）")).to_be_visible(timeout=60_000)
            home = time.perf_counter() - login
        finally:
            server.terminate()
            server.wait(timeout=20)
            browser.close()
    record(
        "app_cold_start",
        {"to_login_page_s": round(first_page, 2), "login_to_home_s": round(home, 2)},
    )


if __name__ == "__main__":
    main()
