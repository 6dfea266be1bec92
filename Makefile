# Parley: `make run` starts the app, `make test` runs the whole suite.
# Both do their own setup, idempotently: Debian packages (packaging/system-deps.sh), a .venv and
# pip installs. Stamp files make a second run do no network work when nothing changed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := $(VENV)/.stamps
PYTEST_ARGS ?=

.PHONY: run test bench screenshot package package-test clean sysdeps-run sysdeps-test

run: $(STAMPS)/run
	$(BIN)/python -m desktop_app $(ARGS)

# The whole suite, the packaged app's build + self-check + size budget included (PARLEY_BUNDLE_TEST),
# on two workers (most of it waits on real time; the audio-device tests share one: tests/conftest.py).
test: $(STAMPS)/test
	PARLEY_BUNDLE_TEST=1 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

$(STAMPS)/sysdeps-run: packaging/system-deps.sh
	packaging/system-deps.sh run
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/sysdeps-test: packaging/system-deps.sh
	packaging/system-deps.sh test
	@mkdir -p $(STAMPS) && touch $@

$(BIN)/python: $(STAMPS)/sysdeps-run
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Parley needs Python >= 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMPS)/run: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[speech,aec,webrtc]'
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/test: $(BIN)/python $(STAMPS)/sysdeps-test pyproject.toml
	$(BIN)/python -m pip install -q -e '.[speech,aec,webrtc,dev]'
	@mkdir -p $(STAMPS) && touch $(STAMPS)/run $@

# `make package`: the one-dir bundle dist/Parley (+ a .tar.gz on Linux), then its self-check
# offscreen. PyInstaller comes with the dev extra; on Linux the build also needs binutils.
package: $(STAMPS)/package
	$(BIN)/python packaging/build.py
	QT_QPA_PLATFORM=offscreen dist/Parley/parley --self-check

# Builds a bundle into a temp dir, self-checks it, holds it to the size budget and times its start-up
# (Xvfb comes with the test system packages). `make test` runs it too, as part of the whole suite.
package-test: $(STAMPS)/package $(STAMPS)/sysdeps-test
	PARLEY_BUNDLE_TEST=1 $(BIN)/python -m pytest -s tests/packaging/test_bundle.py $(PYTEST_ARGS)

$(STAMPS)/package: $(BIN)/python $(STAMPS)/sysdeps-test pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
	@mkdir -p $(STAMPS) && touch $@

bench: $(STAMPS)/test
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# One benchmark: `make bench-peers` runs bench/peers.py, `make bench-capture-stages` bench/capture_stages.py.
bench-%: $(STAMPS)/test
	$(BIN)/python bench/$(subst -,_,$*).py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info

# The README's screenshot: the real window mid-conversation with the offline demo, under Xvfb.
screenshot: $(STAMPS)/run
	xvfb-run -a -s "-screen 0 1280x860x24" $(BIN)/python docs/screenshots/make_screenshot.py docs/screenshots/main-window.png
