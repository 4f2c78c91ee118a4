# Two commands do all the set-up on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON_BOOT ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint venv clean bench graphs messages page-sweep

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) scripts/run_local.py

# The suite runs in TEST_PROCESSES parallel processes, tests handed out in order, so each process keeps pytest-django's order: plain database tests before the transactional ones that flush (the
# machines have 2 cores); TEST_PROCESSES=0 runs it in this process.
TEST_PROCESSES ?= 2

# The page sweep that checks every page is reachable runs last, in a process of its own: after
# the rest of the suite in one process its demo lacks the court-list pull and the draft duty
# rules (the demo-book test, which had the same trouble from draws keyed by row ids, runs in
# the suite again). The state that still leaks into the sweep is not found yet.
ISOLATED_TESTS := tests/e2e/test_page_sweep.py

test: $(STAMP)
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist load $(addprefix --ignore=,$(ISOLATED_TESTS)) $(PYTEST_ARGS)
	$(PY) -m pytest -n 0 $(ISOLATED_TESTS) $(PYTEST_ARGS)

# Issue #18's page sweep with every role's every page loaded in the browser at both widths (the
# suite loads each kind of page once per language, plus every role's home page).
page-sweep: $(STAMP)
	CREDENCE_PAGE_SWEEP=full $(PY) -m pytest tests/e2e/test_page_sweep.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/run.py

messages: $(STAMP)
	PY=$(PY) scripts/messages.sh

clean:
	rm -rf var/*.sqlite3* var/broker var/static
