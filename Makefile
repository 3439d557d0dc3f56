# The two commands of the README's quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
# Arguments for the benchmarks' runner: `make bench ARGS=--quick`, `ARGS="--only core"`.
ARGS ?=

.PHONY: demo test lint typecheck pytest bench bench-check docs stress clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/order-lifecycle demo

lint: $(STAMP)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

test: lint typecheck pytest bench-check

docs: $(STAMP)
	$(BIN)/python -m order_lifecycle.docgen docs/lifecycle.md
	$(BIN)/python -m order_lifecycle.docgen --page cli docs/cli.md

# The long versions of the crash, load and hostile-input tests (minutes, not seconds).
stress: $(STAMP)
	ORDER_LIFECYCLE_STRESS=1 HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/reliability

# The benchmarks are a project of their own (benchmarks/), installed beside the library.
$(BENCH_STAMP): $(STAMP) benchmarks/pyproject.toml
	$(BIN)/python -m pip install --quiet -e . -e './benchmarks[dev]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m order_lifecycle_bench $(ARGS)

# The benchmarks' own lint, strict type check and tests (their bulk loader against the
# library's schema): part of `make test`, so CI runs them.
bench-check: $(BENCH_STAMP)
	cd benchmarks && ../$(BIN)/ruff check . && ../$(BIN)/ruff format --check .
	cd benchmarks && ../$(BIN)/mypy
	cd benchmarks && ../$(BIN)/pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
	rm -rf benchmarks/.pytest_cache benchmarks/.mypy_cache benchmarks/.ruff_cache
