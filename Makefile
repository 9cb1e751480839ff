# The project's commands (see README.md):
#   make run    set everything up on a fresh machine and run the site with its task worker
#   make test   all tests on SQLite, then on PostgreSQL, plus lint, types and migrations check
#   make test-fast  the inner loop: SQLite, without the slow tests (races, workers, browsers)
#   make messages   update the translations' catalogue (locale/) from the sources

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run
MAKEFLAGS += --no-print-directory

# The settings default to production (DEBUG off); every command here is development or
# tests (make run, lint's mypy and migrations check), so it turns DEBUG on explicitly.
# The tests set it themselves too (tests/settings.py).
export DEBUG = true

# `python` here is the interpreter .python-version selects through pyenv.
PYTHON ?= python
# Where `make test-postgres` runs the suite; pytest-django creates and drops test_<name>.
PG_URL ?= postgres://postgres@127.0.0.1:5432/clinic
# The Redis database the worker test's queue uses (a database of its own, number 13).
TEST_REDIS_URL ?= redis://127.0.0.1:6379/13
export TEST_REDIS_URL
# Where `make run` serves: this machine only, unless BIND_ADDRESS says otherwise
# (BIND_ADDRESS=0.0.0.0 to reach it from another device); `PORT=8080 make run` or `make run PORT=8080`.
BIND_ADDRESS ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. `make test-sqlite PYTEST_ARGS="-k booking -x"`.
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
# Stamp: the requirements in .venv are those of the current requirements files.
INSTALLED := $(VENV)/.requirements-installed
MANAGE := $(BIN)/python manage.py
# pytest-xdist, one worker per core: measured on 2 cores with ~300 tests, the PostgreSQL
# run took 13-17 s instead of 18-21 s (SQLite: 11 s instead of 13 s). pytest-django gives
# each worker its own test database (test_clinic_gw0, ...), so the race tests race only
# themselves. A race test holds ~25 connections, the API's idempotency race ~50;
# `--dist loadgroup` runs every test marked xdist_group("postgres_races") on one worker
# (tests/test_harness.py; pytest is pinned below 9.2 for it, see requirements-dev.txt),
# so at most one of them at a time holds connections, well under PostgreSQL's default
# max_connections (100). `PYTEST_ARGS="-n 0"`: one process (pdb).
PYTEST := $(BIN)/pytest -n auto --dist loadgroup $(PYTEST_ARGS)

# Fails with a readable message unless $(1) is Python 3.12 or newer.
check_python = $(1) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else \
	f"Python 3.12 or newer is needed; {sys.executable} is {sys.version.split()[0]}. " \
	"Install it (pyenv install 3.13.0, see .python-version) or pass PYTHON=/path/to/python3.13.")'

# Runs $(2), then says how long it took under the name $(1).
timed = @echo "+ $(2)"; TIMEFORMAT='  $(1): %1Rs'; time $(2)

.PHONY: bench run install lock audit test test-fast test-sqlite test-postgres lint docs-check \
	check-postgres check-redis messages compile-messages

# The translations (issue 13): the .po files are committed, the .mo files they compile to
# are not; the site and the tests need them, so `run` and the test targets compile first.
# compilemessages walks the tree for locale/ directories: not into the virtualenv's.
MESSAGES_PO := $(wildcard locale/*/LC_MESSAGES/django.po)
MESSAGES_MO := $(MESSAGES_PO:.po=.mo)
COMPILE_MESSAGES = $(MANAGE) compilemessages --ignore '.*' --ignore var --ignore staticfiles

compile-messages: $(MESSAGES_MO)

$(MESSAGES_MO) &: $(MESSAGES_PO) | $(INSTALLED)
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (apt-get install gettext)." >&2; exit 1; }
	$(COMPILE_MESSAGES)

# After adding or changing texts: the catalogue gets the new messages (empty, or fuzzy
# where an English text changed) and loses the removed ones. Translate, then commit the
# .po; tests/clinic/test_translations.py fails until every message has its German text.
messages: $(INSTALLED)
	$(MANAGE) makemessages --locale de
	$(COMPILE_MESSAGES)

run: $(INSTALLED) $(MESSAGES_MO)
	@mkdir -p var
	$(MANAGE) migrate --no-input
# seed_demo does nothing when demo data exists already.
	$(MANAGE) seed_demo
	@echo
	@echo "Open http://$(BIND_ADDRESS):$(PORT) and the admin at http://$(BIND_ADDRESS):$(PORT)/admin/"
	@echo "Demo logins: admin@example.com / admin (superuser), staff@example.com / staff;"
	@echo "patient@example.com signs in with an emailed code, and mail is printed below."
	@echo "Ctrl-C stops the web server and the worker."
	@echo
# The Procfile's gunicorn (gunicorn.conf.py) with two workers that reload on changes,
# on $(BIND_ADDRESS):$(PORT) only. honcho hands each process its own PORT from --port (the web
# process gets $(PORT) itself); on Ctrl-C it stops both processes, waits for them and
# exits 130 (interrupted), which is how `make run` is meant to end: no "Error 130".
	PATH="$(CURDIR)/$(BIN):$$PATH" WEB_CONCURRENCY=2 GUNICORN_RELOAD=true \
		GUNICORN_BIND="$(BIND_ADDRESS):$(PORT)" GUNICORN_GRACEFUL_TIMEOUT=5 \
		$(BIN)/honcho start --procfile Procfile --port $(PORT) \
		|| { status=$$?; [[ $$status -eq 130 ]] || exit $$status; echo "Stopped."; }

install: $(INSTALLED)

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.12+." >&2; exit 1; }
	@$(call check_python,$(PYTHON))
	$(PYTHON) -m venv $(VENV)

# Installs the lock file: every package, transitive ones included, at the pinned version
# and with its hash checked, so that what CI tests is what was locked.
$(INSTALLED): requirements-dev.lock | $(BIN)/python
	@$(call check_python,$(BIN)/python) || { echo "Remove $(VENV) and run make again." >&2; exit 1; }
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes \
		-r requirements-dev.lock
	@touch $@

# The lock files, compiled from requirements-dev.txt and requirements.txt (the direct
# dependencies, pinned) for every platform and Python 3.12 or newer: requirements-dev.lock
# for `make install` and CI, requirements.lock for the Dockerfile. The runtime lock is
# constrained by the development one, so the image runs the versions the tests ran.
# Run it after changing a requirements file; it needs PyPI.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal \
	--python-version 3.12 --custom-compile-command "make lock"
lock: | $(BIN)/python
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet "$$(grep -E '^uv==' requirements-dev.txt)"
	$(UV_COMPILE) requirements-dev.txt -o requirements-dev.lock
	$(UV_COMPILE) requirements.txt --constraint requirements-dev.lock -o requirements.lock

# Known vulnerabilities in the locked packages (pip-audit), from PyPI's advisory data
# (AUDIT_SERVICE=osv for OSV's).
# Without network access to it pip-audit cannot tell, and this says so and fails: an
# audit that did not happen is never reported as "no known vulnerabilities".
AUDIT_SERVICE ?= pypi
audit: $(INSTALLED)
	@for lock in requirements.lock requirements-dev.lock; do \
		echo "+ pip-audit --requirement $$lock"; \
		output=$$($(BIN)/pip-audit --requirement $$lock --require-hashes --disable-pip \
			--vulnerability-service $(AUDIT_SERVICE) \
			--progress-spinner off 2>&1) && status=0 || status=$$?; \
		if [[ $$status -ne 0 ]] && grep -qiE "connection|resolve|timed? ?out|network|unreachable|ServiceError" <<<"$$output"; then \
			tail -n 3 <<<"$$output"; \
			echo "NOT AUDITED: pip-audit could not reach its vulnerability database (above)." >&2; \
			exit 2; \
		fi; \
		echo "$$output"; \
		[[ $$status -eq 0 ]] || exit $$status; \
	done

# PostgreSQL first, so that a missing server fails in seconds rather than after the
# SQLite run; lint next; the PostgreSQL run last, so that its summary closes the output.
test: check-postgres check-redis lint docs-check test-sqlite test-postgres

# Under a minute on two cores: every test but those marked `slow` (races, worker
# processes, Chromium, schemathesis), on SQLite.
test-fast: $(INSTALLED) $(MESSAGES_MO)
	env -u DATABASE_URL $(PYTEST) -m "not slow"

lint: $(INSTALLED)
	$(call timed,ruff check,$(BIN)/ruff check .)
	$(call timed,ruff format,$(BIN)/ruff format --check .)
	$(call timed,mypy,$(BIN)/mypy .)
	$(call timed,layers,$(BIN)/lint-imports --no-cache)
	@mkdir -p var
	$(call timed,migrations,env -u DATABASE_URL $(MANAGE) makemigrations --check --dry-run)

# Every Mermaid diagram in docs/ and the README rendered by mermaid-cli (pinned in
# docs/package.json and its lock, installed with `npm ci`) in Debian's Chromium, so a
# diagram that does not parse fails the build (scripts/check-diagrams). Puppeteer's own
# browser download is skipped (docs/.puppeteerrc.cjs). About 30 s.
DOCS_NODE := docs/node_modules/.installed
$(DOCS_NODE): docs/package-lock.json
	cd docs && PUPPETEER_SKIP_DOWNLOAD=true npm ci --no-audit --no-fund --loglevel=error
	@touch $@

docs-check: $(DOCS_NODE)
	$(call timed,diagrams,scripts/check-diagrams)

# axe-core for the end-to-end suite's accessibility check (tests/e2e/test_accessibility.py),
# pinned in tests/e2e/package.json and its lock, installed with `npm ci` before the tests
# run. Under CI a missing axe-core fails those tests (elsewhere they skip and say why).
E2E_NODE := tests/e2e/node_modules/.installed
$(E2E_NODE): tests/e2e/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: the accessibility tests need it (apt-get install nodejs npm)." >&2; exit 1; }
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-sqlite: $(INSTALLED) $(MESSAGES_MO) $(E2E_NODE)
	env -u DATABASE_URL $(PYTEST)

# The complete run measures coverage too, and fails below the floor in pyproject.toml.
test-postgres: $(INSTALLED) $(MESSAGES_MO) $(E2E_NODE) check-postgres check-redis
	DATABASE_URL='$(PG_URL)' $(PYTEST) --cov --cov-report=term

# Connects to the server's maintenance database, as Django does to create the test
# database, so the target database itself need not exist.
define PG_CHECK
import sys
import psycopg
try:
    psycopg.connect(sys.argv[1], dbname="postgres", connect_timeout=5).close()
except psycopg.Error as error:
    sys.exit(
        f"PostgreSQL is not reachable at {sys.argv[1]}: {error}\n"
        "The full test suite needs it: start PostgreSQL, or point PG_URL=postgres://... "
        "at one. `make test-sqlite` runs without it."
    )
endef
export PG_CHECK

check-postgres: $(INSTALLED)
	@$(BIN)/python -c "$$PG_CHECK" '$(PG_URL)'

# The worker test with REDIS_URL (tests/appointments/test_worker_processes.py) needs a
# Redis; like PostgreSQL, a missing one fails the run rather than skipping the test.
define REDIS_CHECK
import sys
import redis
try:
    redis.Redis.from_url(sys.argv[1], socket_connect_timeout=5).ping()
except redis.RedisError as error:
    sys.exit(
        f"Redis is not reachable at {sys.argv[1]}: {error}\n"
        "The full test suite needs it: start Redis, or point TEST_REDIS_URL=redis://... "
        "at one. `make test-sqlite` runs without it."
    )
endef
export REDIS_CHECK

check-redis: $(INSTALLED)
	@$(BIN)/python -c "$$REDIS_CHECK" '$(TEST_REDIS_URL)'

# The benchmark of issue 14 (bench/run.py, docs/performance.md): gunicorn with DEBUG off
# on the PostgreSQL database clinic_bench (seeded once with seed_demo, then reused),
# 127.0.0.1 only, about 5 minutes, at most 9; results in bench/results/bench.{md,json}.
# BENCH_QUICK=1: a smoke run of a few seconds per phase. The server's cache and broker are
# Redis, as in production, in a database of its own (14, emptied by each run);
# BENCH_REDIS_URL= (empty) measures the database cache instead.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/clinic_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14
BENCH_QUICK ?=
bench: $(INSTALLED)
	@$(BIN)/python -c "$$PG_CHECK" '$(BENCH_DATABASE_URL)'
	@[[ -z '$(BENCH_REDIS_URL)' ]] || $(BIN)/python -c "$$REDIS_CHECK" '$(BENCH_REDIS_URL)'
	BENCH_DATABASE_URL='$(BENCH_DATABASE_URL)' BENCH_REDIS_URL='$(BENCH_REDIS_URL)' \
		BENCH_QUICK='$(BENCH_QUICK)' $(BIN)/python -m bench.run
