# make venv — .venv from requirements.lock, or from requirements-gpu.lock (TensorFlow's CUDA build, Linux x86-64)
#             when nvidia-smi lists a GPU; GPU=1 / GPU=0 choose the lock yourself
# make run  — set up .venv, prepare data (synthetic mini corpora when dataset/ is empty), run the pipeline
# make test — set up .venv, then ruff (format + lint), unit tests with every docstring example, every notebook under nbval
#             (on a synthetic corpus of its own: outputs/test-data, outputs/test-notebooks)
# make lint — ruff format --check and ruff check (make format rewrites the files)
# make plan — what `make run` will cost on this machine: each notebook's projected time and the total (runs nothing)
# make dry-run — the full-size original on dataset/MSP-IMPROV: one fold, one epoch, projected time
# make lock — regenerate requirements.lock and requirements-gpu.lock (every distribution, hashed) from requirements.txt
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg

.PHONY: venv lock data run plan dry-run test test-unit test-notebooks lint format clean

UV_VERSION := 0.13.9

# Everything comes from one lock, hash-checked and without dependency resolution, so a fresh
# machine gets exactly the tested tree (pip and setuptools included): requirements.lock
# (tensorflow-cpu), or requirements-gpu.lock (tensorflow with NVIDIA's CUDA wheels, Linux x86-64
# only; every other distribution at the CPU lock's version). Without GPU=, the GPU lock is
# chosen when `nvidia-smi -L` lists a GPU. A changed lock, or the other lock, rebuilds .venv
# from scratch: it never keeps a distribution the lock no longer pins.
CPU_LOCK := requirements.lock
GPU_LOCK := requirements-gpu.lock
HOST := $(shell uname -sm)
ifeq ($(GPU),)
  FIRST_GPU := $(shell nvidia-smi -L 2>/dev/null | grep -m1 '^GPU ' | sed 's/ .UUID.*//')
  ifeq ($(FIRST_GPU),)
    GPU := 0
    LOCK_REASON := nvidia-smi -L lists no GPU (GPU=1 forces the GPU lock)
  else ifneq ($(HOST),Linux x86_64)
    GPU := 0
    LOCK_REASON := nvidia-smi lists $(FIRST_GPU), but TensorFlow's CUDA build is for Linux x86-64 only
  else
    GPU := 1
    LOCK_REASON := nvidia-smi lists $(FIRST_GPU) (GPU=0 forces the CPU lock)
  endif
else ifeq ($(GPU),1)
  LOCK_REASON := GPU=1
else ifeq ($(GPU),0)
  LOCK_REASON := GPU=0
else
  $(error GPU must be 1 (the CUDA build of TensorFlow) or 0 (the CPU build), not '$(GPU)')
endif
LOCK := $(if $(filter 1,$(GPU)),$(GPU_LOCK),$(CPU_LOCK))
LOCK_STAMP := $(VENV)/.lock-stamp$(if $(filter 1,$(GPU)),-gpu)
$(LOCK_STAMP): $(LOCK)
	@echo "installing $(LOCK) (TensorFlow's $(if $(filter 1,$(GPU)),CUDA,CPU) build): $(LOCK_REASON)"
	@test "$(LOCK)" != "$(GPU_LOCK)" || test "$(HOST)" = "Linux x86_64" || \
		{ echo "$(GPU_LOCK) is for Linux x86-64 only (TensorFlow's CUDA build); this is $(HOST): use GPU=0"; exit 2; }
	rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(LOCK)
	@touch $(LOCK_STAMP)

$(STAMP): $(LOCK_STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

# The CPU lock covers Linux, macOS and Windows for Python 3.11 (uv's universal resolution). The
# GPU lock is resolved from the same requirements.txt with tensorflow[and-cuda] for
# tensorflow-cpu, constrained by the CPU lock, so every distribution the two share has the
# same version and hashes (tests/test_locks.py); it installs on Linux x86-64 only.
LOCK_OPTIONS := --universal --python-version 3.11 --generate-hashes --quiet
lock:
	@test -x $(VENV)-lock/bin/uv || ($(PYTHON) -m venv $(VENV)-lock && $(VENV)-lock/bin/python -m pip install --quiet uv==$(UV_VERSION))
	@grep -q '^tensorflow-cpu==' requirements.txt || { echo "requirements.txt pins no tensorflow-cpu== for the GPU lock to replace"; exit 2; }
	$(VENV)-lock/bin/uv pip compile requirements.txt --output-file $(CPU_LOCK) $(LOCK_OPTIONS)
	sed 's/^tensorflow-cpu==/tensorflow[and-cuda]==/' requirements.txt | $(VENV)-lock/bin/uv pip compile - \
		--constraints $(CPU_LOCK) --output-file $(GPU_LOCK) $(LOCK_OPTIONS) --custom-compile-command "make lock"

data: venv
	$(BIN)/ser data prepare

# librosa's eagerly typed numba kernels are compiled into numba's on-disk cache before anything
# can run in parallel (see the numba cache note at `test` below); seconds once, then free.
run: data
	$(BIN)/python -c "from ser_utils.audio.kernels import compile_librosa_kernels; compile_librosa_kernels()"
	$(BIN)/ser run

# Each notebook's projected time for the data and profile `make run` would use, from a measured
# step of every network the notebooks train and measured per-clip costs; runs no notebook.
plan: data
	$(BIN)/ser run --plan

# The original's full-size run, one fold and one epoch, on your MSP-IMPROV copy: memory,
# seconds per step and the projected time of the whole run (the seeds of ser evaluate: 3).
dry-run: venv
	$(BIN)/ser dry-run msp-improv $(or $(SER_DATA_DIR),dataset)/MSP-IMPROV

# Unit tests and the examples in every docstring of the package.
UNIT_TESTS := tests src/ser_utils --doctest-modules

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-unit: venv
	$(BIN)/python -m pytest -q -p no:nbval $(UNIT_TESTS)

test-notebooks: venv
	$(BIN)/ser synth --out $(TEST_DATA) --size tiny
	$(NOTEBOOK_TEST_ENV) $(BIN)/python -m pytest -q --nbval-lax --nbval-cell-timeout=1800 \
		-p no:cacheprovider $(NOTEBOOKS)

# The notebooks (one kernel after another, in order, then three small test files) run beside the
# unit tests, which are split in two processes: the tests that train networks, and the rest with
# every docstring example (the one that prints its progress here). Each of the three leaves a
# core idle much of the time; the logs of the other two are printed when all are done.
# The notebooks run in the smoke profile on a synthetic corpus of their own, smaller than the
# mini corpus of `make run` ('tiny': 96 MSP-IMPROV R/T clips, 70 TESS files), with outputs of
# their own: `make test` never reads dataset/ (with the real corpora there it would run the full
# profile for hours) and never writes over what `make run` left in outputs/.
# numba's on-disk cache is not safe for two processes that compile different signatures of one
# function at the same moment (one's index can end up naming the other's machine code: a
# segfault), so each run keeps its own numba cache: a copy of one into which librosa's eager
# kernels were compiled once (about 15 s of one core), while the package was installed in .venv,
# ruff ran and the test corpus was written (the compile needs only the lock's distributions).
TRAINING_TESTS := $(wildcard tests/experiments/test_network.py tests/experiments/test_fusion.py \
	tests/experiments/test_exploration.py tests/app/test_model_commands.py tests/deep/test_training.py \
	tests/deep/test_batches.py tests/deep/test_bundles.py tests/deep/test_backend.py \
	tests/experiments/test_stages.py tests/experiments/test_plan.py tests/experiments/test_costs.py)
# run after the notebooks, in their process, which has the most time to spare
AFTER_NOTEBOOKS := $(wildcard tests/experiments/test_dry_run.py tests/deep/models/test_*.py \
	tests/deep/test_prediction.py)
OTHER_TESTS := $(filter-out $(TRAINING_TESTS) $(AFTER_NOTEBOOKS),$(sort $(wildcard tests/test_*.py \
	tests/*/test_*.py tests/*/*/test_*.py))) src/ser_utils --doctest-modules
TEST_LOGS := outputs/test-logs
TEST_DATA := $(CURDIR)/outputs/test-data
TEST_OUTPUTS := $(CURDIR)/outputs/test-notebooks
NOTEBOOK_TEST_ENV := SER_PROFILE=smoke SER_DATA_DIR=$(TEST_DATA) SER_OUTPUT_DIR=$(TEST_OUTPUTS)
NUMBA_CACHES := $(CURDIR)/outputs/numba-cache
test: $(LOCK_STAMP)
	@mkdir -p $(TEST_LOGS); rm -rf $(NUMBA_CACHES); \
	PYTHONPATH=src NUMBA_CACHE_DIR=$(NUMBA_CACHES)/librosa $(BIN)/python -c \
		"from ser_utils.audio.kernels import compile_librosa_kernels; compile_librosa_kernels()" & kernels=$$!; \
	$(MAKE) --no-print-directory venv lint && $(BIN)/ser synth --out $(TEST_DATA) --size tiny \
		|| { kill $$kernels; exit 1; }; \
	wait $$kernels || exit 1; \
	for run in notebooks training unit; do cp -R $(NUMBA_CACHES)/librosa $(NUMBA_CACHES)/$$run; done; \
	echo "the notebooks under nbval (then $(notdir $(AFTER_NOTEBOOKS))) and the tests that train networks run beside these -> $(TEST_LOGS)/"; \
	$(NOTEBOOK_TEST_ENV) NUMBA_CACHE_DIR=$(NUMBA_CACHES)/notebooks \
		$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax \
		--nbval-cell-timeout=1800 $(NOTEBOOKS) $(AFTER_NOTEBOOKS) >$(TEST_LOGS)/notebooks.log 2>&1 & notebooks=$$!; \
	NUMBA_CACHE_DIR=$(NUMBA_CACHES)/training $(BIN)/python -m pytest -q -p no:cacheprovider -p no:nbval \
		$(TRAINING_TESTS) >$(TEST_LOGS)/training.log 2>&1 & training=$$!; \
	NUMBA_CACHE_DIR=$(NUMBA_CACHES)/unit $(BIN)/python -m pytest -q -p no:cacheprovider -p no:nbval $(OTHER_TESTS); \
	unit=$$?; echo "unit tests done; waiting for the tests that train networks and the notebooks"; \
	wait $$training; training_status=$$?; wait $$notebooks; notebooks_status=$$?; \
	for log in training notebooks; do echo "== $(TEST_LOGS)/$$log.log"; cat $(TEST_LOGS)/$$log.log; done; \
	test $$unit -eq 0 && test $$training_status -eq 0 && test $$notebooks_status -eq 0

clean:
	rm -rf outputs .pytest_cache
