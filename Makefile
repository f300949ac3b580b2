# Shipgate: two commands for a newcomer, `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format bench soak serve clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

demo: $(STAMP)
	$(VENV)/bin/shipgate-server demo

serve: $(STAMP)
	$(VENV)/bin/shipgate-server serve

bench: $(STAMP)
	$(PY) tests/bench/run.py $(PART) $(ARGS)

soak: $(STAMP)
	$(PY) tests/soak/run.py $(ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
