# newswatch — two commands for a fresh Linux machine with Python 3.11:
#   make demo   creates .venv, installs newswatch, runs the demo (embedded broker)
#   make test   creates .venv, installs newswatch + test tools, runs the whole test-suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test check format schemas audit clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(BIN)/.installed
	$(BIN)/newswatch demo

test: $(BIN)/.installed
	@bash scripts/ensure-chromium.sh
	@$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests - failing" >&2; exit 1; fi; \
	exit $$rc

check: $(BIN)/.installed
	$(BIN)/ruff check streams alerts schemas tests
	$(BIN)/ruff format --check streams alerts schemas tests
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(BIN)/.installed
	$(BIN)/ruff format streams alerts schemas tests
	$(BIN)/ruff check --fix streams alerts schemas tests

# Needs network access to the advisory databases; --strict fails when a package was skipped.
audit: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --strict

schemas: $(BIN)/.installed
	$(BIN)/python -m schemas.export

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
