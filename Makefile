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

## the whole test suite (unit, dispatcher, end-to-end through the Bot API emulator, migrations)
test: install
	$(PY) -m pytest

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
