#!/usr/bin/env bash
# The tour `make demo` gives: init -> validate -> render -> explain -> a broken value caught with
# its file:line -> fixed. Runs on a fresh copy of the example repository shipped in templates/.
set -euo pipefail
dir=${1:-demo-repo}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

case "$dir" in /*) key="${dir%/}-age-key.txt" ;; *) key="$(pwd)/${dir%/}-age-key.txt" ;; esac
# (the key lives outside the repository: a key never goes into Git)
rm -rf "$dir" "$key"
run cfgctl init "$dir"
cd "$dir"
run cfgctl validate
run cfgctl render payments --env prod-eu
run cfgctl explain payments db.host --env prod-eu

step "cfgctl set payments replicas 0 --env prod     # refused: the schema says replicas >= 1"
if cfgctl set payments replicas 0 --env prod; then echo "expected a refusal" >&2; exit 1; fi

step "sed -i 's/pool_size: 40/pool_size: lots/' config/prod/payments.yaml     # a hand edit breaks it"
sed -i 's/pool_size: 40/pool_size: lots/' config/prod/payments.yaml
step "cfgctl validate     # caught, with the file:line:col to fix"
if cfgctl validate; then echo "expected validation to fail" >&2; exit 1; fi

run cfgctl set payments db.pool_size 40 --env prod
run cfgctl validate
run cfgctl get payments db.pool_size --env prod-eu

step "export SOPS_AGE_KEY_FILE=$key; cfgctl secrets keygen --out \$SOPS_AGE_KEY_FILE"
export SOPS_AGE_KEY_FILE="$key"
recipient=$(cfgctl secrets keygen --out "$key")
run cfgctl secrets recipients add "$recipient" --env prod
step "printf '***' | cfgctl secrets set payments db.password --env prod   # stdin, never argv"
printf 'demo-Passw0rd-2026' | cfgctl secrets set payments db.password --env prod
run cfgctl diff
run cfgctl get payments db.password --env prod-eu
run cfgctl secrets check
printf '\nThe demo repository is in %s/ (a Git repository): try `cfgctl -C %s --help`.\n' "$dir" "$dir"
