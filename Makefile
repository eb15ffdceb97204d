# The two commands a reader needs: `make book` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book test env lint lock clean

## env: create .venv from the lock file (only when it or pyproject.toml changed)
env: $(STAMP)
$(STAMP): requirements-lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-lock.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

## book: execute every chapter and build _build/html strictly
book: $(STAMP)
	rm -rf _build/.jupyter_cache _build/html
	$(BIN)/jupyter-book build --all $(JB_FLAGS) .
	@echo "Book: $(CURDIR)/_build/html/index.html"

## test: unit, property and CLI tests (and, once the book machinery lands, notebooks and browser)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check hermes_model tests scripts

## lock: re-resolve requirements.txt into requirements-lock.txt (needs the package registry)
lock:
	rm -rf /tmp/hermes-lock && $(PYTHON) -m venv /tmp/hermes-lock
	/tmp/hermes-lock/bin/pip install -q -r requirements.txt
	/tmp/hermes-lock/bin/pip freeze > requirements-lock.txt

clean:
	rm -rf _build
