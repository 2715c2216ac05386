# Two commands for a newcomer: `make run` and `make test`. Everything lives in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench sandbox clean install

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

# Reinstall only when the dependency list changes.
$(STAMP): pyproject.toml | $(BIN)/pip
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m config.runportal

# Lint first: `make test` is ruff check, ruff format --check, then the whole suite.
test: lint
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Figures, not assertions: seeding time and page latency of the sandbox store, measured in one run.
bench: $(STAMP)
	$(BIN)/python -m magento.sandbox.benchmark

# `make sandbox SANDBOX_PORT=8082` when 8081 is taken (0 picks a free port).
SANDBOX_PORT ?= 8081
sandbox: $(STAMP)
	$(BIN)/python manage.py magento_sandbox --port $(SANDBOX_PORT)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
