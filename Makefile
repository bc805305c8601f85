# Two commands: `make demo` runs the built-in study, `make test` runs lint, types and tests.
# Each creates .venv and installs what it needs the first time; later runs skip what is installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH_STAMP := $(VENV)/.torch-installed
STAMP := $(VENV)/.gazealign-installed

.PHONY: demo test lint typecheck pytest install docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Pinned: an unpinned torch pulls a multi-GB CUDA build.
$(TORCH_STAMP): | $(BIN)/python
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	touch $@

$(STAMP): pyproject.toml $(TORCH_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gazealign demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

# Two test processes with one math-library thread each: 11.0 min against 15.5 min for one
# process on 2 cores (benchmarks/RESULTS.md, "Test suite").
pytest: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/pytest -q -n 2

test: lint typecheck pytest

# Regenerate the study-file reference from the config models (a test checks it is current).
docs: $(STAMP)
	$(BIN)/gazealign keys > docs/study-file.md

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache
