# `make demo` and `make test` are the only set-up a fresh machine needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/channelsync demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q $(TEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)
	$(BIN)/python bench/intake.py $(filter --quick,$(ARGS))

clean:
	rm -rf $(VENV) build *.egg-info
