# Two commands for a newcomer: `make run` and `make test`. Both set up what they need.
PY      := .venv/bin/python
STAMP   := .venv/.installed
PORT    ?= 8501

.PHONY: run test lint typecheck venv browser postgres bench clean

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium and its driver for the end-to-end tests (never a browser download), a
# Japanese font for the pages it draws, and poppler's pdftotext/pdftoppm for the PDF tests.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null \
			|| [ -z "$$(fc-list :lang=ja 2>/dev/null)" ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver \
			poppler-utils fonts-noto-cjk fontconfig >/dev/null; \
	fi

# Debian's PostgreSQL server binaries: the core tests start a server of their own on each
# engine run (tests/postgres_server.py), in a temporary folder, as an unprivileged user.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; \
	fi

run: $(STAMP)
	$(PY) -m core init
	$(PY) -m core demo --if-empty
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

lint: $(STAMP)
	$(PY) -m ruff check core ui views tests bench app.py
	$(PY) -m ruff format --check core ui views tests bench app.py
	$(PY) -m mypy core

# The core tests run on both engines, the DuckDB file and PostgreSQL
# (RENEWAL_TEST_ENGINES=duckdb for one). The browser tests run after the rest, so a loaded
# machine does not slow the page; two at a time, one file each (each file starts its own
# server), as they mostly wait for the browser.
test: $(STAMP) browser postgres lint
	$(PY) -m pytest -n 2 -q tests --ignore=tests/e2e
	$(PY) -m pytest -n 2 --dist loadfile -q tests/e2e

# Every figure at full scale (6–7 minutes on 2 cores); the table lands in bench/out/table.md.
# BENCH_ARGS=--reuse keeps an existing bench/out/full.duckdb.
bench: $(STAMP) browser
	$(PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
