# Two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv from the pinned requirements when it is missing or stale.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-jets test lint venv clean bench zoo

venv: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock requirements-extras.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-dev.lock -r requirements-extras.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/pnn demo --output demo-output --overwrite

# Pythia 8 top and QCD jets, CNN / ParticleNet-Lite / BDT (≈ 2 min on 2 cores; goal ≤ 10)
demo-jets: $(STAMP)
	$(BIN)/pnn demo --jets --output demo-jets-output --overwrite

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks studies
	$(BIN)/python -m mypy src
	$(BIN)/python -m pytest -q

# Retrain the pretrained models of `pnn zoo` (after a generator change; ≈ 5-10 min on 2 cores)
zoo: $(STAMP)
	PYTHONPATH=src $(BIN)/python benchmarks/zoo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks studies
	$(BIN)/ruff format --check src tests benchmarks studies
	$(BIN)/python -m mypy src

clean:
	rm -rf $(VENV) demo-output demo-jets-output .pytest_cache
