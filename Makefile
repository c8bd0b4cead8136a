# winkube.node — set-up, tests and demo. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.winkube-setup
COLL_LINK := .collections/ansible_collections/winkube/node
# ansible-test needs the collection under an ansible_collections/winkube/node path.
SANITY_ROOT := build/sanity/ansible_collections/winkube/node
PS_FILES := $(shell git ls-files -co --exclude-standard '*.ps1' '*.psm1' '*.psd1' 2>/dev/null)
# Python 3.12 (for ansible-core 2.20/2.21) is used where present and never required.
# (A pyenv shim named python3.12 may exist and still refuse to run: each candidate must answer.)
PY312 := $(firstword $(foreach p,$(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12 2>/dev/null),\
  $(shell $(p) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 && echo $(p))))
CORE_PKGS := pywinrm==0.5.0 pyspnego pyyaml cryptography pytest
PYVER = $(shell $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
# The simulator, its tests and the demo are test-only (build_ignore'd, linted by ruff); sanity checks what ships.
SANITY_EXCLUDE := ^(tests/simulator/|tests/integration/|demo/|\.ci/)

comma := ,

.PHONY: help system-packages bench setup cores test molecule molecule-real lint unit sanity pslint build-collection ee changelog-lint demo clean

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(STAMP) $(COLL_LINK) system-packages  ## Create .venv with every dependency and link this checkout as winkube.node

# Debian packages the tests use where they can be had: the distribution registry and osslsigncode
# for the image-signature tests (they skip with a message when a tool is missing). Never fatal.
SYSTEM_PACKAGES := docker-registry osslsigncode
system-packages:
	@missing=""; for b in docker-registry osslsigncode; do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES); } >build-system-packages.log 2>&1 \
	      || echo "could not install$$missing (see build-system-packages.log): the tests that need them will skip"; \
	  else echo "not installed:$$missing (needs root and apt-get): the tests that need them will skip"; fi; \
	fi

$(STAMP): test-requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r test-requirements.txt
	@touch $@

$(COLL_LINK):
	@mkdir -p $(dir $@)
	@ln -sfn ../../.. $@

cores: setup  ## Extra ansible-core venvs for the simulator's wire-format matrix (2.18; 2.20/2.21 with Python 3.12)
	@test -x .venv-2.18/bin/ansible-playbook || { $(PYTHON) -m venv .venv-2.18 && \
	  .venv-2.18/bin/pip install --quiet 'ansible-core==2.18.*' $(CORE_PKGS); }
	@if [ -n "$(PY312)" ]; then \
	  test -x .venv-2.20/bin/ansible-playbook || { $(PY312) -m venv .venv-2.20 && \
	    .venv-2.20/bin/pip install --quiet 'ansible-core==2.20.*' $(CORE_PKGS); }; \
	  test -x .venv-2.21/bin/ansible-playbook || { $(PY312) -m venv .venv-2.21 && \
	    .venv-2.21/bin/pip install --quiet 'ansible-core==2.21.*' 'ansible==14.*' $(CORE_PKGS); }; \
	else echo "Python 3.12 not found: the ansible-core 2.20/2.21 wire-format tests will be skipped"; fi

test: setup cores  ## Set up if needed, then run everything CI checks
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory molecule

# One pytest worker per core (pytest-xdist): the slow tests are real ansible-playbook runs, and each
# test starts its own simulator on free ports. PYTEST_WORKERS=0 runs them in one process.
PYTEST_WORKERS ?= auto

unit: setup  ## Run the pytest suites (unit, simulator, integration), one worker per core
	@set +e; $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) tests; rc=$$?; set -e; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; \
	  exit $$rc

# Every scenario under extensions/molecule except windows-real (a real lab; it says so and skips).
SCENARIOS = $(filter-out windows-real,$(notdir $(patsubst %/molecule.yml,%,$(wildcard extensions/molecule/*/molecule.yml))))

# Scenarios run MOLECULE_JOBS at a time (each starts its own simulator on free ports); each gets
# its own HOME because Molecule copies the collection into ~/.ansible and keeps state in ~/.cache.
MOLECULE_JOBS ?= 3

molecule: setup  ## Run every Molecule scenario against the simulator (SCENARIOS="a b" for some)
	@mkdir -p build
	@printf '%s\n' $(SCENARIOS) | xargs -P $(MOLECULE_JOBS) -I{} sh -c '\
	  mkdir -p build/molecule-home/{}; \
	  HOME="$(CURDIR)/build/molecule-home/{}" PATH="$(CURDIR)/$(BIN):$$PATH" NO_COLOR=1 ANSIBLE_NOCOLOR=1 \
	    $(BIN)/molecule test -s {} > build/molecule-{}.log 2>&1 \
	    || { cat build/molecule-{}.log; echo "molecule scenario {} failed (log: build/molecule-{}.log)"; exit 255; }; \
	  echo "== {}: $$(sed "s/\x1b\[[0-9;]*m//g" build/molecule-{}.log | grep -A1 "SCENARIO RECAP" | tail -n 1)"'
	@$(MAKE) --no-print-directory molecule-real

molecule-real: setup  ## The windows-real scenario against a lab (WINKUBE_REAL_* variables; skipped without them)
	@if [ -z "$${WINKUBE_REAL_HOSTS:-}" ] || [ -z "$${WINKUBE_REAL_USER:-}" ] || [ -z "$${WINKUBE_REAL_PASSWORD:-}" ]; then \
	  echo "windows-real: skipped (set WINKUBE_REAL_HOSTS, WINKUBE_REAL_USER and WINKUBE_REAL_PASSWORD to run it against real Windows hosts)"; \
	else PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test -s windows-real; fi

lint: setup  ## ruff, yamllint, ansible-lint (production), changelog lint, build, sanity, PowerShell parse
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yamllint -s .
	$(MAKE) --no-print-directory pslint
	$(MAKE) --no-print-directory changelog-lint
	$(BIN)/ansible-lint --profile production
	$(MAKE) --no-print-directory build-collection
	$(MAKE) --no-print-directory ee
	$(MAKE) --no-print-directory sanity

pslint: setup  ## Parse every shipped .ps1/.psm1 with tree-sitter-powershell
	$(BIN)/python tools/ps_syntax_check.py $(PS_FILES)

changelog-lint: setup
	$(BIN)/antsibull-changelog lint

build-collection: setup  ## Build the collection tarball into build/
	@mkdir -p build
	$(BIN)/ansible-galaxy collection build --force --output-path build .

sanity: setup  ## ansible-test sanity on a copy under ansible_collections/ (pslint needs pwsh: see pslint)
	@rm -rf build/sanity && mkdir -p $(SANITY_ROOT)
	@git ls-files -co --exclude-standard | grep -Ev '$(SANITY_EXCLUDE)' | xargs -d '\n' cp --parents -t $(SANITY_ROOT)/
	@$(BIN)/python tools/ansible_test_pip_cache.py
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/ansible-test sanity --color no --venv --python $(PYVER) \
	    --requirements --skip-test pslint > $(CURDIR)/build/sanity.log 2>&1 \
	  || { sed '/^WARNING: Location/d' $(CURDIR)/build/sanity.log; exit 1; }
	@grep -E '^Running sanity test' build/sanity.log | sed 's/^/  /'

ee: setup  ## Render the execution-environment build context into build/ee
	@rm -rf build/ee
	$(BIN)/ansible-builder create -f execution-environment.yml --context build/ee

demo: setup  ## Provision simulated Windows nodes, converge again, print what changed and what it cost
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python demo/run.py

bench: setup  ## Measure module runs, WinRM requests and wall time per node for 1, 10 and 50 nodes (NODES=1,10,50)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python demo/bench.py --nodes $(or $(NODES),1$(comma)10$(comma)50)

clean:  ## Remove build output (keeps .venv)
	rm -rf build .collections
