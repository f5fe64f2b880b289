# licensewatch: `make demo` runs the product on the built-in emulator, `make test` runs the whole suite.
# Every target creates .venv and installs what it needs, so both work on a fresh clone.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HOME ?= $(CURDIR)/.demo

.PHONY: demo test lint types unit bench bench-quick profile soak screenshots clean browser audit

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Debian's Chromium for the browser tests (never a downloaded browser build).
# Without root (a user's clone) it only warns: the browser tests then skip with that reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' to enable the browser tests"; fi; }

demo: $(STAMP)
	LICENSEWATCH_HOME=$(DEMO_HOME) $(BIN)/licensewatch demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q -m "not network"

test: $(STAMP) browser lint types
	bash scripts/run-pytest.sh $(BIN)/pytest -n 2 -q -m "not network"

# Known vulnerabilities of the installed packages (pip-audit): needs PyPI's JSON API or OSV on the
# internet, so it is not part of `make test`; it fails when it could not check enough.
audit: $(STAMP)
	bash scripts/run-pytest.sh $(BIN)/pytest -q -m network tests/security/test_audit_dependencies.py

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]' && $(BIN)/python -m benchmarks

bench-quick: $(STAMP)
	$(BIN)/python -m benchmarks --quick

# cProfile of a full sync beside the bare fetch floor (PROFILE_USERS, both engines); .prof files in
# benchmarks/results/profiles/. Client CPU per user and × floor are printed last.
PROFILE_USERS ?= 50000
profile: $(STAMP)
	$(BIN)/python -m benchmarks.profile_sync --users $(PROFILE_USERS)

screenshots: $(STAMP) browser
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache

# Reliability soak (minutes): the daemon over many faulty emulator tenants, then kill -9 at 20 seeded points
# per database engine. SOAK_MINUTES=30 for a release.
SOAK_MINUTES ?= 3
soak: $(STAMP)
	$(BIN)/python scripts/soak.py --minutes $(SOAK_MINUTES) && $(BIN)/python scripts/crash_series.py --points 20
