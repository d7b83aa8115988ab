#!/usr/bin/env bash
# Records the tour of `make demo` (scripts/demo.sh) with asciinema, under a real terminal of
# 100x32, and cuts it into one cast per chapter: docs/casts/NAME.cast, which the documentation
# site plays (docs/walkthrough.md). One command after any change to the demo:
#   make casts                       # or: bash scripts/record-casts.sh
# A new chapter of the demo (`chapter NAME "Title"` in scripts/demo.sh) becomes a new cast; add
# it to docs/walkthrough.md (tests/docs/test_site.py fails until it is there). The recording is
# the real output with its real timings; pauses longer than 2 s are shortened when played
# (idle_time_limit), never in the file. The demo runs in CASTS_WORKDIR (default
# /tmp/cfgctl-demo, removed first and after) so the casts show one fixed path, not a random one.
# Fails, writing nothing, when the demo fails or a cast would hold a secret in clear.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv/bin"
work="${CASTS_WORKDIR:-/tmp/cfgctl-demo}"
out="$root/docs/casts"
cols=100 rows=32

test -x "$venv/asciinema" || { echo "error: $venv/asciinema not found: make install first" >&2; exit 3; }
bash "$root/scripts/system-packages.sh" prometheus etcd-server:etcd   # the canary gate; the fleet chapter

rm -rf "$work" && mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"
export PATH="$venv:$PATH" TERM=xterm-256color DEMO_CHAPTERS=1 DEMO_RUN_DIR="$work/run"
# asciinema gives the demo a pseudo-terminal of its own (no terminal is needed here) and does
# not pass its exit status on: the demo writes it to a file.
"$venv/asciinema" rec --quiet --overwrite --cols "$cols" --rows "$rows" \
  --title "cfgctl: make demo" \
  --command "bash '$root/scripts/demo.sh' demo-repo; echo \$? > '$work/demo.rc'" \
  "$work/demo.cast" </dev/null
if [ "$(cat "$work/demo.rc" 2>/dev/null)" != 0 ]; then
  echo "error: the demo failed (exit $(cat "$work/demo.rc" 2>/dev/null || echo '?')); its end:" >&2
  tail -c 3000 "$work/demo.cast" >&2
  exit 1
fi

# Never a secret in clear: the demo's password, an age private key, an API token of the server.
if grep -l -E -e 'demo-Passw0rd-2026' -e 'AGE-SECRET-KEY-' -e 'cfgctl_[0-9a-f]{12}_' "$work/demo.cast"; then
  echo "error: the recording holds a secret in clear; no cast written" >&2
  exit 1
fi
mkdir -p "$work/casts"
"$venv/python" "$root/scripts/cast_chapters.py" "$work/demo.cast" "$work/casts" --idle-time-limit 2
rm -f "$out"/*.cast
mkdir -p "$out"
cp "$work"/casts/*.cast "$out/"
echo "recorded $(ls "$out"/*.cast | wc -l) casts into docs/casts/"
