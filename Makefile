# AIDAS: `make demo` sets everything up and produces episodes 1-2 of the sample series offline;
# `make test` runs the test suite. Both work on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: setup system-deps demo test ui benchmark soak clean

setup: $(VENV)/.installed

# Debian packages: ffmpeg/ffprobe (encoder and probe), the NanumGothic subtitle font (OFL), and
# redis-server (the Celery broker the scale-out test starts on loopback).
system-deps:
	@if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null || ! fc-list 2>/dev/null | grep -q NanumGothic \
		|| ! command -v redis-server >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "[setup] installing ffmpeg, fonts-nanum and redis-server with apt-get"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends ffmpeg fonts-nanum fontconfig redis-server >/dev/null; \
	fi

$(VENV)/.installed: setup.py pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/aidas demo

# `dg check defs` first: the code location loads (definitions and component YAML) before any test runs.
# Then three workers on two cores (pytest-xdist): the daemon, kill and Celery tests spend much of their
# time waiting on other processes, so a third worker fills the idle core time (measured on a clean clone:
# 490 s with two, 415 s with three, 393 s with four at load 7, which leaves no headroom). Whole files per
# worker, so module fixtures are built once per file, handed out in collection order, which puts the
# longest files first (aidas_dagster_tests/conftest.py).
test: setup
	$(BIN)/dg check defs
	@# Every test subprocess imports the project: compiled once here, not once per process (where
	@# PYTHONDONTWRITEBYTECODE is set, as on CI machines, Python never writes these itself).
	$(BIN)/python -m compileall -q aidas_dagster
	$(BIN)/pytest -q -n 3 --dist loadfile --no-loadscope-reorder

ui: setup
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

benchmark: setup
	$(BIN)/python benchmarks/render_episode.py

# The studio unattended for SOAK_MINUTES (default 6) on short episodes, with kills, provider 5xx
# bursts and a quota refusal injected; prints episodes made, duplicates, blocked runs, half-written
# files and budget overspend, and fails when one that must be 0 is not. Not part of `make test`.
soak: setup
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf storage .dagster_home
