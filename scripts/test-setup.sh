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

# Debian's Prometheus for tests/analyze/test_prometheus.py: a real server scraping a sample
# exporter on loopback (the tests start their own on a free port; the package's service is not
# used). Debian's Chromium for tests/analyze/test_report.py: it opens the HTML report headless
# and takes a screenshot. Without them, those tests are skipped with the reason.
missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "warning: could not install ${missing[*]}; their tests will be skipped" >&2
    fi
  else
    echo "warning: ${missing[*]} not installed (apt-get install ${missing[*]}, as root); their tests will be skipped" >&2
  fi
fi
