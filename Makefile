# Two commands for a newcomer: `make run` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The whole dependency tree, pinned with hashes: made from pyproject.toml by `make lock`.
LOCK := requirements/dev.txt
UV_VERSION := 0.13.9

.PHONY: run demo test lint format bench sandbox clean install lock

# pip is the last thing `venv` installs, so a .venv without it (a failed or interrupted run) is
# made again. Debian's Python has no ensurepip until python3-venv is installed: say so, and leave
# no half-made .venv behind.
$(BIN)/pip:
	@$(PYTHON) -m venv $(VENV) || { \
	  rm -rf $(VENV); \
	  echo "make: could not create $(VENV) with $(PYTHON) -m venv (see the error above)." >&2; \
	  echo "make: on Debian or Ubuntu install the venv module first:" \
	    "sudo apt-get install python3-venv   (or python3.11-venv), then run make again." >&2; \
	  exit 1; }

# Reinstall only when the lock (or the project's own metadata) changes. Exactly the locked
# versions, checked against their hashes; then the project itself, which brings nothing more.
$(STAMP): $(LOCK) pyproject.toml | $(BIN)/pip
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m config.runportal

# Try the portal: the sandbox store with simulated activity, a demo user (printed), a
# connection and an example automation that ships new orders, then the portal and the worker.
# Ctrl-C stops it all; running it again reuses what it made. `make demo DEMO_ARGS="--port 8001"`.
DEMO_ARGS ?=
demo: $(STAMP)
	$(BIN)/python manage.py demo $(DEMO_ARGS)

# Lint first: `make test` is ruff check, ruff format --check, a check that every model change has
# its migration, then the whole suite.
test: lint
	$(BIN)/python manage.py makemigrations --check --dry-run --settings=config.settings.test
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Figures, not assertions, each beside its baseline in the same run: the sandbox store, polling,
# runs and the history lists (README: Benchmarks). About 5 minutes; DATABASE_URL=postgres://...
# runs the portal's figures on new databases on that server.
bench: $(STAMP)
	$(BIN)/python -m benchmarks

# `make sandbox SANDBOX_PORT=8082` when 8081 is taken (0 picks a free port).
SANDBOX_PORT ?= 8081
sandbox: $(STAMP)
	$(BIN)/python manage.py magento_sandbox --port $(SANDBOX_PORT)

# Lock the whole dependency tree again after changing pyproject.toml. uv is installed for this run
# only, into a temporary folder. Locked versions are kept while pyproject.toml allows them;
# `make lock LOCK_ARGS=--upgrade` takes the newest ones.
lock: | $(BIN)/pip
	@tool=$$(mktemp -d) && trap 'rm -rf "$$tool"' EXIT && \
	  $(BIN)/python -m pip install --quiet --target "$$tool" uv==$(UV_VERSION) && \
	  for extra in dev production; do \
	    UV_CACHE_DIR="$$tool/cache" "$$tool/bin/uv" pip compile pyproject.toml --extra $$extra \
	      --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
	      --quiet --output-file requirements/$$extra.txt $(LOCK_ARGS) || exit 1; \
	  done
	@echo "make: requirements/dev.txt and requirements/production.txt are up to date."

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
