# spinspice -- set-up and everyday targets.  Every target installs what is
# missing first (ngspice via apt, a .venv with the CPU torch wheel and the
# package) and is idempotent: a second run does nothing that is not needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.spinspice-installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT ?= results

.PHONY: install ngspice chromium demo test bench lint docs clean

install: ngspice chromium $(STAMP)

# ngspice executable + shared library: >= 46 (OSDI, KLU) from the configured Debian
# source's backports suite, else the stable one (see .ci/install-ngspice)
ngspice:
	@PYTHON=$(PYTHON) .ci/install-ngspice

# Debian's chromium, for the browser check of report.html (tests/test_browser.py, make docs);
# optional: without root or archive the script says so and those tests skip
chromium:
	@.ci/install-chromium

# torch first, pinned: the 2.13.0 CPU wheel; an unpinned torch pulls GBs of CUDA
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	echo torch==2.13.0 > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c $(VENV)/constraints.txt
	# Norse (tests only) without its dependencies: they would pull torchvision's CUDA wheel
	$(BIN)/python -m pip install --quiet --no-deps norse==1.1.0
	touch $(STAMP)

demo: install
	$(BIN)/spinspice demo --out $(OUT)/demo

# the suite on every core (2 in CI), a test file per worker: module fixtures are built once
test: install
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

# benchmarks (docs/performance.md): each prints ratios measured side by side in one run;
# together about 20 min on 2 cores (modes.py 100, one full 784x100 crossbar run, takes > 18 min alone)
bench: install
	cd bench && ../$(BIN)/python osdi.py 5
	cd bench && ../$(BIN)/python vs_torch.py 100
	cd bench && ../$(BIN)/python scaling.py 100,250,500,1000
	cd bench && ../$(BIN)/python network.py - 20
	cd bench && ../$(BIN)/python modes.py 10
	cd bench && ../$(BIN)/python training.py 1000
	cd bench && ../$(BIN)/python chaos_run.py 40 12

lint: install
	$(BIN)/ruff check spinspice tests bench docs/*.py
	$(BIN)/ruff format --check spinspice tests bench docs/*.py

docs: install
	$(BIN)/python docs/gen_models.py
	$(BIN)/python docs/gen_papers.py
	$(BIN)/python docs/gen_screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
