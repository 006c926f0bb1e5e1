# `make run`: demo course on SQLite at http://127.0.0.1:8000.  `make test`: the whole test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install chromium postgres run test test-postgres lint fuzz conformance bench bench-web bench-rush bench-scrape bench-scrape-network bench-grading clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Debian's chromium for the browser tests (tests/browser), installed when missing; needs root then.
chromium:
	.ci/ensure-chromium

# The worker (db_worker) runs the scrapes and exports started from the site; it stops with the server.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py db_worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:8000

# Debian's PostgreSQL for the tests that crash and restart a database of their own, installed when missing.
postgres:
	.ci/ensure-postgres >/dev/null

test: install chromium postgres
	$(PY) -m pytest

# The same suite on a throwaway PostgreSQL cluster (installs Debian's postgresql when missing; needs root then).
test-postgres: install chromium postgres
	.ci/with-postgres $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The fuzz targets (tests/fuzz) with many more inputs than the suite tries: FUZZ_EXAMPLES per target.
FUZZ_EXAMPLES ?= 300
fuzz: install
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -p no:cacheprovider

conformance: install
	PYTHON=$(PY) ../shared/conformance/run

bench: install
	$(PY) bench/engine.py

# Load test: 50 students for 30 s on gunicorn and a throwaway PostgreSQL (the script starts both on free ports).
bench-web: install
	env -u DATABASE_URL $(PY) bench/web_load.py

# The deadline rush: 600 students in groups of 4 writing in the editor (drafts, previews, JSON saves) for 60 s.
bench-rush: install
	env -u DATABASE_URL $(PY) bench/web_load.py --profile deadline-rush

# Scrape 150 local repos made to look like course repos, against plain sequential clones of them.
bench-scrape: install
	$(PY) bench/scrape.py

# The same over smart HTTP behind a userspace network: 40 ms round trips, 50 Mbit/s per connection.
bench-scrape-network: install
	$(PY) bench/scrape.py --network

# The grading overview and the grading page (next/previous, autosave) on 150 groups x 31 questions with 10 TAs
# (SQLite; `--database postgres` for a throwaway PostgreSQL cluster).
bench-grading: install
	$(PY) bench/grading.py

clean:
	rm -rf $(VENV) db.sqlite3 media staticfiles
