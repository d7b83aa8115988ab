# Every target creates .venv when it is missing and installs the project into it.

# Bytecode is written (__pycache__/, git-ignored) even where the environment says not to: without
# it every cfgctl process of the tests compiles each module it imports again, and every pytest
# worker rewrites and compiles every test module again (collection: 24 s -> 13 s here).
unexport PYTHONDONTWRITEBYTECODE
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= demo-repo

.PHONY: install dashboard demo docs casts test test-fast bench lint clean

# uv resolves and installs the same versions as pip in a tenth of the time (about 5 s against
# 60 s on 2 cores); where uv cannot be had (no index, an odd platform), pip does it. Both compile
# the bytecode at install (uv on every core), as pip does by default: otherwise the first
# processes of a test run each compile the same modules at once.
# The venv is made without pip (ensurepip alone takes ~5 s): the interpreter's own pip puts uv in
# it (pip --python, pip >= 22.3), and uv installs pip with the rest ([dev]). Without that pip,
# ensurepip after all.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv --without-pip $(VENV)
	{ $(PYTHON) -m pip --python $(PY) install -qq uv 2>/dev/null \
	    || { $(PY) -m ensurepip >/dev/null && $(PY) -m pip install -qq uv; }; } \
	  && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]' \
	  || { $(PY) -m ensurepip >/dev/null; $(PY) -m pip install --quiet -e '.[dev]'; }
	touch $(STAMP)

install: $(STAMP) dashboard

# The web dashboard (web/) built into cfgctl/server/dashboard/ when missing or older than web/.
dashboard:
	bash scripts/build-web.sh

demo: install
	bash scripts/system-packages.sh prometheus etcd-server:etcd
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash scripts/demo.sh $(DEMO)

# The documentation site (mkdocs.yml, pages from docs/) into site/, every link and anchor checked
# (--strict). docs/hooks.py installs the pinned asciinema player (npm ci in docs/) the first time.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

# The terminal recordings the site plays (docs/casts/): the tour of `make demo` recorded again,
# one cast per chapter. Run it after any change to scripts/demo.sh.
casts: install
	bash scripts/record-casts.sh

# --dist loadgroup: tests marked xdist_group("NAME") share one worker (tests/e2e/: one server and
# one browser for all of them; tests/fleet/: one etcd cluster); every other test is spread as with
# the default. (pytest stays below 9.2 for it: pytest-xdist#1386.)
# Three workers on two cores: a third of the suite's time is waiting on real processes (servers
# starting, health checks, kill -9 recoveries), which a third worker fills (345 s against 380 s
# for the whole suite here, warm).
# The dashboard's build (npm ci, vite) and the tests' own setup (test-setup.sh: the JSON Schema
# Test Suite, Debian packages, schemathesis' venv, the docs' player) do not depend on each other:
# on a fresh clone they run side by side. cfgctl's bytecode is compiled once first, not by each
# of the first test processes at the same time, and so are the test modules, with pytest's
# assertion rewriting (scripts/precompile_tests.py, 4 s of one core beside the web build: the
# three workers' collection on a fresh clone then takes 15 s instead of 21).
test: $(STAMP)
	bash scripts/build-web.sh & web=$$!; \
	  $(PY) -m compileall -q -j 0 cfgctl tests >/dev/null \
	    && $(PY) scripts/precompile_tests.py tests \
	    && bash scripts/test-setup.sh; setup=$$?; \
	  wait $$web; built=$$?; \
	  test $$setup -eq 0 && test $$built -eq 0
	$(PY) -m pytest -n 3 --dist loadgroup -q

# Everything but the tests marked slow (real processes, suites): the edit loop, about a minute
# (three workers, as for `make test`: 59 s for 1,594 tests here).
test-fast: install
	$(PY) -m pytest -n 3 --dist loadgroup -q -m "not slow"

bench: install
	bash scripts/system-packages.sh prometheus nginx wrk chromium etcd-server:etcd etcd-client:etcdctl
	$(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) -m benchmarks.startup_bench
	$(PY) -m benchmarks.secrets_bench
	$(PY) -m benchmarks.sdk_bench
	$(PY) -m benchmarks.agent_bench
	$(PY) -m benchmarks.agent_limits_bench
	$(PY) -m benchmarks.operate_bench
	$(PY) -m benchmarks.codescan_bench
	$(PY) -m benchmarks.changepoint_bench
	$(PY) -m benchmarks.judge_bench
	$(PY) -m benchmarks.correlate_bench
	$(PY) -m benchmarks.serve_bench
	$(PY) -m benchmarks.serve_nginx_bench
	$(PY) -m benchmarks.dashboard_bench
	$(PY) -m benchmarks.fleet_bench

lint: $(STAMP)
	$(VENV)/bin/ruff check cfgctl tests benchmarks
	$(VENV)/bin/ruff format --check cfgctl tests benchmarks
	$(VENV)/bin/mypy cfgctl tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO) .pytest_cache .mypy_cache .ruff_cache web/node_modules cfgctl/server/dashboard site docs/node_modules
