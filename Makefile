# make run: set up .venv if missing and run the default benchmark job.
# make check: the fast loop: ruff and every test that needs no subprocess, browser or cluster.
# make test: set up .venv if missing and run the whole test suite (what CI runs).
# TORCH_INDEX=https://download.pytorch.org/whl/cpu: take torch from PyTorch's CPU wheel index
#   (no CUDA libraries to download) when the venv is set up.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_INDEX ?=
TEST_WORKERS ?= 2
CHECK_WORKERS ?= 2

.PHONY: run check test bench lint clean

WEB := testbed/web

$(STAMP): pyproject.toml $(WEB)/package-lock.json
	@command -v $(PY) >/dev/null 2>&1 || { echo "error: $(PY) not found (Python 3.11 is required)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -e ".[test]"
	@# the testbed's browser device: onnxruntime-web from npm into the ignored $(WEB)/node_modules
	if command -v npm >/dev/null 2>&1; then npm ci --prefix $(WEB) --no-audit --no-fund --ignore-scripts --loglevel=error; \
	else echo "note: npm not found; the testbed's browser tests will be skipped"; fi
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m benchmark

check: $(STAMP)
	$(BIN)/ruff check .
	@# bytecode and pytest's rewritten test modules are cached even where the environment turns
	@# .pyc files off (compiling and rewriting them again took 5 s of each worker's start)
	PYTHONDONTWRITEBYTECODE= PARTBENCH_FAST=1 $(BIN)/python -m pytest -q -m "not slow and not bench" \
	  --ignore=tests/bench -n $(CHECK_WORKERS) --dist worksteal

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP)
	$(BIN)/python -m pytest -q -m bench --benchmark-enable --benchmark-columns=median,iqr,min,rounds tests/bench

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .benchmarks $(WEB)/node_modules
