# Two commands on a fresh machine:  `make run`  (install + start)  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install run console migrate test lint check bench messages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## install, migrate the database and start the bot (BOT_TOKEN from the environment or .env)
run: install
	$(PY) -m bot run

## chat with the bot in this terminal: no token, no internet
console: install
	$(PY) -m bot console

migrate: install
	$(PY) -m bot migrate

## the whole test suite (unit, dispatcher, end-to-end through the Bot API emulator, migrations),
## on SQLite, then again on PostgreSQL + Redis FSM storage when their binaries exist
## (`make test TEST_BACKENDS=postgres` for one pass; PYTEST_ARGS="-x -k ..." to narrow it)
TEST_BACKENDS ?= sqlite postgres
PYTEST_ARGS ?=
test: install
	@for backend in $(TEST_BACKENDS); do \
	  if [ "$$backend" = postgres ]; then \
	    $(PY) -m tests.pg || { status=$$?; [ $$status -eq 3 ] && continue; exit $$status; }; \
	  fi; \
	  echo "== the test suite on $$backend (METODBOT_TEST_BACKEND=$$backend)"; \
	  start=$$(date +%s); \
	  METODBOT_TEST_BACKEND=$$backend $(PY) -m pytest $(PYTEST_ARGS) || exit 1; \
	  echo "== $$backend: passed in $$(( $$(date +%s) - start )) s"; \
	done

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy .

check: lint test

bench: install
	$(PY) -m bench.run

## refresh locales/messages.pot and merge new strings into the catalogs
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k __ -k _ -k lazy_gettext -k ngettext:1,2 \
		--no-location --omit-header --sort-output -o locales/messages.pot .
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --ignore-obsolete
