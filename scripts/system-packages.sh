#!/usr/bin/env bash
# The Debian packages the tests and the demo use beyond Python's: installed with apt-get when
# missing (as root), else a warning: what needs them is skipped with the reason.
#   bash scripts/system-packages.sh prometheus chromium
# prometheus: a real server scraping sample services on loopback (the tests and the demo start
# their own on a free port; the package's service is not used). chromium: opens the HTML report
# headless and takes a screenshot.
set -euo pipefail
# An argument PACKAGE:COMMAND names a package whose command has another name (etcd-server:etcd).
missing=()
for spec in "$@"; do
  package=${spec%%:*}
  command -v "${spec#*:}" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }; then
      echo "warning: could not install ${missing[*]}; what needs them is skipped" >&2
    fi
  else
    echo "warning: ${missing[*]} not installed (apt-get install ${missing[*]}, as root); what needs them is skipped" >&2
  fi
fi
