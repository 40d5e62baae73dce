# Two commands for a newcomer: `make run` and `make test`. Both set up what they need.
PY      := .venv/bin/python
STAMP   := .venv/.installed
PORT    ?= 8501

.PHONY: run test lint typecheck venv browser bench clean

$(STAMP): requirements.txt
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

# Debian's Chromium and its driver for the end-to-end tests; never a browser download.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdftotext >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver poppler-utils >/dev/null; \
	fi

run: $(STAMP)
	$(PY) -m core init
	$(PY) -m core demo --if-empty
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

lint: $(STAMP)
	$(PY) -m ruff check core ui pages tests bench app.py
	$(PY) -m ruff format --check core ui pages tests bench app.py
	$(PY) -m mypy core

# The browser tests run on their own after the rest, so a loaded machine does not slow the page.
test: $(STAMP) browser lint
	$(PY) -m pytest -n 2 -q tests --ignore=tests/e2e
	$(PY) -m pytest -q tests/e2e

bench: $(STAMP)
	$(PY) bench/run_all.py

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
