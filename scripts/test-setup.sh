#!/usr/bin/env bash
# Fetches what the tests need beyond the Python packages (cached under .cache/).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}

# The official JSON Schema Test Suite, as shipped inside the source distribution of `jsonschema`
# (its json/ folder), used to prove that the fast validator agrees with the reference `jsonschema`.
suite=.cache/json-schema-test-suite
if [ ! -d "$suite/tests/draft2020-12" ]; then
  mkdir -p .cache
  tmp=$(mktemp -d)
  version=$("$PY" -c 'import importlib.metadata as m; print(m.version("jsonschema"))')
  if "$PY" -m pip download --quiet --no-deps --no-binary :all: -d "$tmp" "jsonschema==$version" \
      >/dev/null 2>&1; then
    tar -xzf "$tmp"/jsonschema-*.tar.gz -C "$tmp"
    rm -rf "$suite" && mv "$tmp"/jsonschema-*/json "$suite"
  else
    echo "warning: could not download the JSON Schema Test Suite; its tests will be skipped" >&2
  fi
  rm -rf "$tmp"
fi

# Debian's Prometheus (tests/analyze/test_prometheus.py, the canary of the demo) and Chromium
# (tests/analyze/test_report.py: the HTML report opened headless, a screenshot looked at).
bash scripts/system-packages.sh prometheus chromium
# systemd-analyze (verify, security --offline=yes) reads the units of deploy/systemd/ without a
# running systemd (tests/deploy/test_systemd.py); promtool of the prometheus package above checks
# and unit-tests deploy/prometheus/ (tests/deploy/test_prometheus_rules.py).
bash scripts/system-packages.sh systemd:systemd-analyze
# Debian's etcd 3.4 (etcd-server; etcdctl from etcd-client): the three-member cluster of
# tests/fleet/, started by the tests themselves on free loopback ports; libfaketime (faketime)
# for the clock jumps of a publisher and an agent.
bash scripts/system-packages.sh etcd-server:etcd etcd-client:etcdctl faketime

# Schemathesis (property-based tests generated from the server's OpenAPI document), in a
# virtualenv of its own: its pins (jsonschema-rs < 0.61 in 4.x; starlette < 1 in 3.x) would
# downgrade cfgctl's own dependencies. tests/server/test_schemathesis.py runs its `st`.
st=.cache/schemathesis-venv
if [ ! -x "$st/bin/st" ]; then
  mkdir -p .cache
  # uv (installed into .venv by the Makefile) when it is there: seconds instead of half a minute.
  uv=.venv/bin/uv
  if [ -x "$uv" ]; then
    install_st() { "$uv" venv --quiet --python python3 "$st" && "$uv" pip install --quiet --compile-bytecode --python "$st/bin/python" "schemathesis==4.32.5"; }
  else
    install_st() { python3 -m venv "$st" && "$st/bin/pip" install --quiet "schemathesis==4.32.5"; }
  fi
  if ! install_st >/dev/null 2>&1; then
    echo "warning: could not install schemathesis; its test will be skipped" >&2
    rm -rf "$st"
  fi
fi

# The asciinema player of the documentation site, installed by docs/hooks.py as the docs build
# would (npm ci when missing or older than docs/package-lock.json): here, so that `npm ci` (which
# empties node_modules first) stays out of the test run, where tests/docs/test_site.py builds.
"$PY" - <<'PY'
import sys

sys.path.insert(0, "docs")
import hooks  # noqa: E402

try:
    hooks.install()
except Exception as exc:  # npm missing or failing: the docs build of the tests says so again
    print(f"warning: {exc}", file=sys.stderr)
PY
