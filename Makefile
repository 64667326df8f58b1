# Two entry points, each creating its own virtual environment on first use:
#   make reproduce   train V5 as written and V5 with OneCycle, 5 seeds each, and print their
#                    final-epoch summaries (into build/reproduce/, apart from the committed
#                    results/; rerunning skips the seeds already finished there);
#                    THREADS=N sets the torch threads of each run (default: the cores
#                    other processes leave free); the time left covers both recipes
#   make test        lint, run the whole test suite (doctests included) and build the docs
#   make mcu-library build TFLite Micro with CMSIS-NN for the Cortex-M4 into the cache once
#                    (tinyconv mcu --prepare; 5-7 minutes on 2 cores), so tests and runs reuse it
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
TINYCONV_DATA ?= ../shared/data
# Resolved where it enters (relative to this folder), so tests and tools that run from
# other folders, or link files from it, see the same data whether it was given relative,
# absolute or through a symlink.
override TINYCONV_DATA := $(abspath $(TINYCONV_DATA))
export TINYCONV_DATA
# TFLite Micro's sources for tinyconv mcu: the bundle beside the checkout, when there is one.
TINYCONV_TFLM ?= $(firstword $(wildcard ../shared/vendor/tflite-micro-*.tar.xz))
ifneq ($(TINYCONV_TFLM),)
override TINYCONV_TFLM := $(abspath $(TINYCONV_TFLM))
export TINYCONV_TFLM
endif

BIN := $(VENV)/bin

.PHONY: install test lint docs reproduce results-table mcu-library clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@echo "== creating $(VENV) and installing $(TORCH_SPEC) (a few minutes the first time) =="
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --progress-bar off $(TORCH_SPEC)
	@echo "== installing tinyconv with every extra (dev, docs, plots, export, search, tflite, compress) =="
	$(BIN)/pip install --quiet --progress-bar off -e '.[dev,docs,plots,export,search,tflite,compress]'
	touch $@

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/pytest -q --doctest-modules tinyconv tests
	$(MAKE) docs

docs: install
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

mcu-library: install
	$(BIN)/tinyconv mcu --prepare --cpu cortex-m4

REPRODUCE_OUT ?= build/reproduce

# THREADS=1 (torch threads per run) is often faster on a machine other processes keep busy.
THREADS ?=
REPRODUCE_FLAGS = --data-dir $(TINYCONV_DATA) --seeds 5 --out $(REPRODUCE_OUT) $(if $(THREADS),--threads $(THREADS))

reproduce: install
	@echo "== recipe 1 of 2: mnist_v5 (5 seeds x 15 epochs) =="
	$(BIN)/python examples/mnist_v5.py $(REPRODUCE_FLAGS) --seeds-after 5
	@echo "== recipe 2 of 2: mnist_v5_onecycle (5 seeds x 15 epochs) =="
	$(BIN)/python examples/mnist_v5_onecycle.py $(REPRODUCE_FLAGS)

results-table: install
	$(BIN)/tinyconv results results --readme README.md
	$(BIN)/tinyconv results results/cpu --readme README.md --marker cpu
	$(BIN)/tinyconv results results/fashion --readme README.md --marker fashion
	$(BIN)/tinyconv results results/frontier --readme README.md --marker frontier

clean:
	rm -rf $(VENV) docs/_build docs/_generated .pytest_cache .ruff_cache .hypothesis
