# Shipgate: two commands for a newcomer, `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-clock lint format bench soak serve clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# The whole suite twice on a shifted machine clock (libfaketime, every process and subprocess):
# a year ahead (machine zone), then from 00:00:05 China time on the first of a month (TZ too; an
# offset from now, so every process and subprocess shares one shifted clock).
# libfaketime needs care here: see tests/faketime/sitecustomize.py and tests/browserkit.py.
CHINA_MIDNIGHT ?= 2027-01-01 00:00:05 +0800
FAKETIME_ENV := PYTHONPATH=tests/faketime FAKETIME_DONT_FAKE_MONOTONIC=1 MAN_DISABLE_SECCOMP=1

test-clock: $(STAMP)
	$(FAKETIME_ENV) faketime -f '+365d' $(PY) -m pytest -q -p no:cacheprovider
	$(FAKETIME_ENV) TZ=Asia/Shanghai \
		faketime -f "$$(printf '%+ds' $$(( $$(date -d '$(CHINA_MIDNIGHT)' +%s) - $$(date +%s) )))" \
		$(PY) -m pytest -q -p no:cacheprovider

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
