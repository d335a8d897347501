# make run  — set up .venv, prepare data (synthetic mini corpora when dataset/ is empty), run the pipeline
# make test — set up .venv, then unit tests and every notebook under nbval
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0
export MPLBACKEND ?= Agg

.PHONY: venv data run test test-unit test-notebooks clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

venv: $(STAMP)

data: venv
	$(BIN)/ser data prepare

run: data
	$(BIN)/ser run

test-unit: data
	$(BIN)/python -m pytest tests -q

test-notebooks: data
	$(BIN)/python -m pytest -q --nbval-lax --nbval-cell-timeout=1800 -p no:cacheprovider $(NOTEBOOKS)

test: data
	$(BIN)/python -m pytest -q tests --nbval-lax --nbval-cell-timeout=1800 $(NOTEBOOKS)

clean:
	rm -rf outputs .pytest_cache
