"""App cold start: seconds from launching Streamlit to the first rendered page in Chromium.

Usage: python bench/bench_startup.py --db bench/out/full.duckdb [--runs 3]
Measures (1) process start → the log-in form visible, and (2) log-in → the home page's
figures rendered over the whole database (the first page staff see). Each run starts a new
server and a new browser context (no cached front end); the median of the runs is kept.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import time
from pathlib import Path

from common import OUT, PYTHON, ROOT, record
from playwright.sync_api import Browser, expect, sync_playwright

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_start(browser: Browser, db: Path, user: str, password: str) -> tuple[float, float]:
    """A new server and a new browser context (nothing cached): (to log-in page, log-in → home)."""
    port = free_port()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    started = time.perf_counter()
    server = subprocess.Popen(
        [PYTHON, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT,
        env={**os.environ, "RENEWAL_DB": str(db)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}", timeout=2000)
                break
            except Exception:
                if server.poll() is not None:
                    raise RuntimeError(f"streamlit exited with {server.returncode}") from None
                time.sleep(0.1)
        expect(page.get_by_label("ユーザーID")).to_be_visible(timeout=60_000)
        first_page = time.perf_counter() - started
        page.get_by_label("ユーザーID").fill(user)
        page.get_by_label("パスワード").fill(password)
        login = time.perf_counter()
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_text("会員数（担当範囲）")).to_be_visible(timeout=60_000)
        home = time.perf_counter() - login
    finally:
        server.terminate()
        server.wait(timeout=20)
        context.close()
    return first_page, home


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=OUT / "full.duckdb")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo-pass-2026")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    starts = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            for _ in range(args.runs):
                starts.append(one_start(browser, args.db, args.user, args.password))
        finally:
            browser.close()
    firsts = [s[0] for s in starts]
    homes = [s[1] for s in starts]
    record(
        "app_cold_start",
        {
            "to_login_page_s": round(statistics.median(firsts), 2),
            "to_login_page_s_each": [round(t, 2) for t in firsts],
            "login_to_home_s": round(statistics.median(homes), 2),
            "login_to_home_s_each": [round(t, 2) for t in homes],
        },
    )


if __name__ == "__main__":
    main()
