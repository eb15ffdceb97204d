# The two commands a reader needs: `make book` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB_FLAGS := -W -n --keep-going

.PHONY: book test env lint lock clean outputs rerun
# Chapters: the notebooks named in _toc.yml.
NOTEBOOKS := $(foreach f,$(shell sed -n 's/^ *- *file: *//p' _toc.yml),$(wildcard $(f).ipynb))
PYTEST := $(BIN)/python -m pytest
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg

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

## test: unit tests; then the notebooks (papermill contract and smoke runs, strict nbval on the
## committed outputs); then build the book and open every page in headless Chromium
test: $(STAMP)
	$(PYTEST) -m "not notebook and not browser"
	$(PYTEST) -m notebook
	$(PYTEST) $(NBVAL_FLAGS) $(NOTEBOOKS)
	$(MAKE) --no-print-directory book
	$(PYTEST) -m browser

## outputs: re-execute every chapter in place with its defaults (the only way committed outputs change)
outputs: $(STAMP)
	$(BIN)/python scripts/rerun.py --in-place $(NOTEBOOKS)

## rerun: make rerun NB=book/X.ipynb PARAMS="-p name value ..." writes the executed copy to _build/reruns/
rerun: $(STAMP)
	@test -n "$(NB)" || { echo 'usage: make rerun NB=book/X.ipynb PARAMS="-p name value ..."' >&2; exit 2; }
	$(BIN)/python scripts/rerun.py $(NB) $(PARAMS)

lint: $(STAMP)
	$(BIN)/ruff check hermes_model tests scripts

## lock: re-resolve requirements.txt into requirements-lock.txt (needs the package registry)
lock:
	rm -rf /tmp/hermes-lock && $(PYTHON) -m venv /tmp/hermes-lock
	/tmp/hermes-lock/bin/pip install -q -r requirements.txt
	/tmp/hermes-lock/bin/pip freeze > requirements-lock.txt

clean:
	rm -rf _build
