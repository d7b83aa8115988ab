#!/usr/bin/env bash
# The tour `make demo` gives: init -> validate -> render -> explain -> a broken value caught with
# its file:line -> fixed -> secrets -> migrate -> hard-coded values moved out of a service's code ->
# the agent delivering a change -> its canary gate rolling back a change that slows the service,
# and `cfgctl analyze impact` saying why -> the configuration server (a read, a long poll woken
# by a commit, a write that becomes a change request, approved and merged) -> backup and drill. Runs on a fresh copy of the example repository shipped in cfgctl/resources/templates/default.
set -euo pipefail
dir=${1:-demo-repo}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"   # this checkout (the sample service)
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }
# A chapter of the tour: scripts/record-casts.sh sets DEMO_CHAPTERS and cuts its recording into
# docs/casts/NAME.cast at each mark (the marks are removed); otherwise nothing is printed.
chapter() { if [ -n "${DEMO_CHAPTERS:-}" ]; then printf '@@cfgctl-chapter %s %s@@\n' "$1" "$2"; fi; }

case "$dir" in /*) key="${dir%/}-age-key.txt" ;; *) key="$(pwd)/${dir%/}-age-key.txt" ;; esac
# (the key lives outside the repository: a key never goes into Git)
rm -rf "$dir" "$key"
chapter validate "Validate, break, fix: errors at file:line:col"
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

chapter secrets "Secrets with SOPS and age, a diff, a schema migration"
step "export SOPS_AGE_KEY_FILE=$key; cfgctl secrets keygen --out \$SOPS_AGE_KEY_FILE"
export SOPS_AGE_KEY_FILE="$key"
recipient=$(cfgctl secrets keygen --out "$key")
run cfgctl secrets recipients add "$recipient" --env prod
step "printf '***' | cfgctl secrets set payments db.password --env prod   # stdin, never argv"
printf 'demo-Passw0rd-2026' | cfgctl secrets set payments db.password --env prod
run cfgctl diff
run cfgctl migrate search --dry-run
run cfgctl migrate search
run cfgctl get payments db.password --env prod-eu
run cfgctl secrets check

repo="$(pwd)"
run_dir="${DEMO_RUN_DIR:-$(mktemp -d)}"   # scripts/record-casts.sh names one: no random path in the casts
mkdir -p "$run_dir"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$run_dir"
}
trap cleanup EXIT

# --- adopting cfgctl in an existing service: two hard-coded values moved into configuration ---
chapter adopt "Adopting cfgctl: hard-coded values moved out of a service's code"
svc="$run_dir/payments-service"
cp -r "$root/examples/payments-service" "$svc"
find "$svc" -name __pycache__ -prune -exec rm -rf {} +
cd "$svc"
step "cd payments-service     # a service whose configuration is hard-coded (examples/payments-service)"
run python -m pytest -q -p no:cacheprovider
run cfgctl scan-code payments_app
pick() { cfgctl scan-code payments_app --format json | python -c "import json,sys; print(next(f['id'] for f in json.load(sys.stdin)['findings'] if f['key'] == '$1'))"; }
url=$(pick processor.url); timeout=$(pick processor.request_timeout)
run cfgctl -C "$repo" scan-code payments_app --fix --service payments --select "$url" --select "$timeout" --dry-run
run cfgctl -C "$repo" scan-code payments_app --fix --service payments --select "$url" --select "$timeout" --verify "python -m pytest -q -p no:cacheprovider"
step "cfgctl render payments --env prod > payments.yaml; CFGCTL_CONFIG=payments.yaml python -m pytest -q     # after"
cfgctl -C "$repo" render payments --env prod > "$run_dir/payments-prod.yaml"
CFGCTL_CONFIG="$run_dir/payments-prod.yaml" python -m pytest -q -p no:cacheprovider
run cfgctl -C "$repo" get payments processor.request_timeout --env prod
cd "$repo"

# --- the sync agent delivers a merged change to a running service -----------------------------
chapter agent "The agent delivers a merged change; the canary gate rolls back a slow one"
free_port() { python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
prom_port=$(free_port)
# What the canary gate and `cfgctl analyze` measure: the sample service's request latency, from
# a Prometheus server that scrapes it every 250 ms.
cat > analytics.yaml <<YAML
version: 1
source: {prometheus: {url: http://127.0.0.1:$prom_port, step: 250ms}}
metrics:
  - name: latency
    query: sample_request_latency_seconds{service="{service}"}
    direction: higher_is_worse
    critical: true
    tolerance: 20%      # a shift of less than a fifth does not matter here
YAML
git add -A >/dev/null && git -c user.name=demo -c user.email=demo@example.com commit -qm "demo changes"
wait_file() { for _ in $(seq 1 300); do [ -s "$1" ] && return 0; sleep 0.05; done; echo "no $1" >&2; exit 1; }
service_get() { python -c "import json,sys,urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:$(cat "$run_dir/port")/config'))['config']$1)"; }

cat > "$run_dir/agent.yaml" <<YAML
source: {url: $repo, branch: $(git rev-parse --abbrev-ref HEAD), poll_interval: 1h}
webhook: {listen: 127.0.0.1:0, secret_env: DEMO_WEBHOOK_SECRET}
state_dir: $run_dir/state
targets:
  - {service: payments, env: prod, path: $run_dir/payments.yaml}
YAML
step "cfgctl agent once --config agent.yaml     # the first delivery: payments@prod to a file"
cfgctl agent once --config "$run_dir/agent.yaml"
step "python tests/support/sample_service.py --config payments.yaml &     # a service on the SDK"
python "$root/tests/support/sample_service.py" --config "$run_dir/payments.yaml" --port-file "$run_dir/port" & pids+=($!)
wait_file "$run_dir/port"
url="http://127.0.0.1:$(cat "$run_dir/port")"
canary=false
if command -v prometheus >/dev/null 2>&1; then
  canary=true
  step "prometheus (scraping the service every 250 ms) &  and a client sending it requests &"
  printf '{"global": {"scrape_interval": "250ms"}, "scrape_configs": [{"job_name": "payments", "static_configs": [{"targets": ["127.0.0.1:%s"]}]}]}\n' \
    "$(cat "$run_dir/port")" > "$run_dir/prometheus.yml"
  prometheus --config.file="$run_dir/prometheus.yml" --storage.tsdb.path="$run_dir/tsdb" \
    --web.listen-address="127.0.0.1:$prom_port" --log.level=error >"$run_dir/prometheus.log" 2>&1 & pids+=($!)
  python - "$url" <<'PY' & pids+=($!)
import sys, threading, time, urllib.request
def client() -> None:
    while True:
        try:
            urllib.request.urlopen(sys.argv[1] + "/work", timeout=5).read()
        except OSError:
            time.sleep(0.1)
        time.sleep(0.005)
for _ in range(3):
    threading.Thread(target=client, daemon=True).start()
threading.Event().wait()
PY
  load=$!
else
  echo "(prometheus is not installed: apt-get install prometheus shows the canary gate at the end)"
fi
cat >> "$run_dir/agent.yaml" <<YAML
    reload: {http: $url/reload}
    health: {http: $url/healthz, timeout: 5s}
YAML
if $canary; then
  echo "    analysis: {window: 4s}     # the canary gate: latency judged 4 s after each delivery" >> "$run_dir/agent.yaml"
fi
sed -i 's|  - {service: payments, env: prod, path: \(.*\)}|  - service: payments\n    env: prod\n    path: \1|' "$run_dir/agent.yaml"
export DEMO_WEBHOOK_SECRET="demo-$RANDOM$RANDOM"
step "cfgctl agent run --config agent.yaml &     # reload: POST /reload, health: GET /healthz"
cfgctl agent run --config "$run_dir/agent.yaml" & pids+=($!)
wait_file "$run_dir/state/agent.addr"
printf 'the service runs with db.pool_size = %s\n' "$(service_get "['db']['pool_size']")"

if $canary; then  # the canary compares the seconds before a change with those after it
  prom_samples() { python -c "import json,sys,urllib.request,urllib.parse; q=urllib.parse.quote('count_over_time(sample_request_latency_seconds[6s])'); r=json.load(urllib.request.urlopen('http://127.0.0.1:$prom_port/api/v1/query?query='+q)); print(int(float(r['data']['result'][0]['value'][1])) if r['data']['result'] else 0)" 2>/dev/null || echo 0; }
  for _ in $(seq 1 600); do [ "$(prom_samples)" -ge 20 ] && break; sleep 0.1; done
fi
run cfgctl set payments db.pool_size 60 --env prod
git -c user.name=demo -c user.email=demo@example.com commit -qam "payments: a bigger pool in prod"
push_webhook() {  # a GitHub push event to the agent, signed with X-Hub-Signature-256
  python - "$(cat "$run_dir/state/agent.addr")" <<'PY'
import hashlib, hmac, json, os, sys, urllib.request
body = json.dumps({"ref": "refs/heads/" + os.popen("git rev-parse --abbrev-ref HEAD").read().strip()}).encode()
sig = "sha256=" + hmac.new(os.environ["DEMO_WEBHOOK_SECRET"].encode(), body, hashlib.sha256).hexdigest()
req = urllib.request.Request(f"http://{sys.argv[1]}/webhook", data=body, method="POST",
                             headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": sig})
print("webhook answered", urllib.request.urlopen(req, timeout=10).status)
PY
}
step "POST /webhook (a GitHub push event, signed with X-Hub-Signature-256)"
push_webhook
for _ in $(seq 1 200); do [ "$(service_get "['db']['pool_size']")" = 60 ] && break; sleep 0.05; done
printf 'the service now runs with db.pool_size = %s\n' "$(service_get "['db']['pool_size']")"
[ "$(service_get "['db']['pool_size']")" = 60 ] || { echo "the service did not pick the change up" >&2; exit 1; }
run cfgctl agent status --config "$run_dir/agent.yaml"

# --- the canary gate: a change that slows the service is rolled back, and analyze says why ------
if $canary; then
  canary_state() { cfgctl agent status --config "$run_dir/agent.yaml" --format json | python -c "import json,sys; c=json.load(sys.stdin)['targets'][0]['canary'] or {}; print(c.get('state',''))"; }
  step "(waiting for the canary of the pool-60 change to judge it)"
  for _ in $(seq 1 300); do [ "$(canary_state)" != analysing ] && break; sleep 0.1; done
  run cfgctl agent status --config "$run_dir/agent.yaml"
  run cfgctl set payments db.pool_size 4 --env prod
  git -c user.name=demo -c user.email=demo@example.com commit -qam "payments: a smaller pool in prod"
  slow=$(git rev-parse HEAD)
  step "POST /webhook     # the agent delivers pool_size 4: requests now queue for a connection"
  push_webhook
  for _ in $(seq 1 200); do [ "$(service_get "['db']['pool_size']")" = 4 ] && break; sleep 0.05; done
  printf 'the service runs with db.pool_size = %s; the canary watches its latency for 4 s\n' "$(service_get "['db']['pool_size']")"
  for _ in $(seq 1 600); do [ "$(service_get "['db']['pool_size']")" = 60 ] && break; sleep 0.1; done
  printf 'the canary gate rolled it back: the service runs with db.pool_size = %s again\n' "$(service_get "['db']['pool_size']")"
  [ "$(service_get "['db']['pool_size']")" = 60 ] || { echo "the canary gate did not roll the change back" >&2; cat "$run_dir/state/audit.jsonl" >&2; exit 1; }
  run cfgctl agent status --config "$run_dir/agent.yaml"
  run cfgctl analyze impact "${slow:0:12}" --audit "$run_dir/state" --window 4s
  kill "$load" 2>/dev/null || true  # the canary has judged: no more load on the service
fi

# --- the configuration server: a read, and a long poll woken by a commit ------------------------
chapter server "The configuration server: reads, long polls, change requests"
step "cfgctl serve --insecure-local --listen 127.0.0.1:0 &     # the REST API over the branch"
cfgctl serve --insecure-local --listen 127.0.0.1:0 --addr-file "$run_dir/serve.addr" >/dev/null 2>"$run_dir/serve.log" & pids+=($!)
wait_file "$run_dir/serve.addr"
api="$(cat "$run_dir/serve.addr")/api/v1"
for _ in $(seq 1 300); do curl -sf "$api/status" >/dev/null && break; sleep 0.05; done
step "curl $api/config/payments/prod     # rendered, validated, the secret masked"
curl -s -D "$run_dir/read.headers" "$api/config/payments/prod"; echo
read_commit=$(awk 'tolower($1)=="cfgctl-commit:" {print $2}' "$run_dir/read.headers" | tr -d '\r')
printf 'Cfgctl-Commit: %s\n' "$read_commit"
step "curl $api/overview     # the web dashboard's first page: every service in every environment"
curl -s "$api/overview" | python -c 'import json, sys
d = json.load(sys.stdin)
if "services" not in d:
    sys.exit(f"the overview: {d}")
for s in d["services"]:
    print(s["name"].ljust(10), "  ".join(f"{e}: {n} errors" if n else f"{e}: valid" for e, n in zip(d["environments"], s["errors"])))'
echo "the dashboard: open ${api%/api/v1}/ in a browser (docs/dashboard.md)"
step "curl '$api/config/payments/prod?wait=30s&after=${read_commit:0:12}' &     # held until a commit changes it"
python - "$api/config/payments/prod?wait=30s&after=$read_commit" > "$run_dir/poll.out" <<'PY' & poll=$!
import json, sys, time, urllib.request
started = time.monotonic()
with urllib.request.urlopen(sys.argv[1], timeout=40) as r:
    body = json.load(r)
    print(f"the long poll answered {r.status} after {time.monotonic() - started:.1f} s: "
          f"replicas = {body['config']['replicas']} at {r.headers['Cfgctl-Commit'][:12]}")
PY
sleep 1
run cfgctl set payments replicas 8 --env prod
git -c user.name=demo -c user.email=demo@example.com commit -qam "payments: 8 replicas in prod"
wait $poll
cat "$run_dir/poll.out"
grep -q "answered 200" "$run_dir/poll.out" || { echo "the long poll was not woken by the commit" >&2; exit 1; }
kill "${pids[-1]}" 2>/dev/null || true   # the anonymous server stops; one with tokens follows

# --- writes become change requests: API tokens, rbac.yaml, the author never approves -------------
step "rbac.yaml: alice edits payments, bob (team acme/payments) approves and merges"
cat > rbac.yaml <<'YAML'
version: 1
groups:
  acme/payments: [bob]        # the payments owners' team of policy.yaml, without a forge
grants:
  - {subjects: [alice], role: editor, scope: ["payments@*"]}
  - {subjects: [bob], role: approver, scope: ["payments@*"]}
YAML
git add rbac.yaml && git -c user.name=demo -c user.email=demo@example.com commit -qm "access rules of the server"
state="$run_dir/serve-state"
alice=$(cfgctl serve token create --name alice --role editor --scope 'payments@*' --expires 1d --state-dir "$state" 2>/dev/null)
bob=$(cfgctl serve token create --name bob --role approver --scope 'payments@*' --expires 1d --state-dir "$state" 2>/dev/null)
echo "(two tokens made with cfgctl serve token create; shown once, stored hashed)"
step "cfgctl serve --state-dir STATE &     # every request needs a token now"
rm -f "$run_dir/serve.addr"
cfgctl serve --state-dir "$state" --listen 127.0.0.1:0 --addr-file "$run_dir/serve.addr" >/dev/null 2>"$run_dir/serve2.log" & pids+=($!)
wait_file "$run_dir/serve.addr"
api="$(cat "$run_dir/serve.addr")/api/v1"
for _ in $(seq 1 300); do [ "$(curl -s -o /dev/null -w '%{http_code}' "$api/status")" != 000 ] && break; sleep 0.05; done
printf 'without a token: HTTP %s\n' "$(curl -s -o /dev/null -w '%{http_code}' "$api/config/payments/staging")"
etag=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $alice" "$api/config/payments/staging" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
step "curl -X PATCH $api/config/payments/staging -H 'If-Match: ...' -d '{\"replicas\": 3}'     # alice"
curl -s -X PATCH -H "Authorization: Bearer $alice" -H "If-Match: $etag" \
  -H 'Content-Type: application/merge-patch+json' -H 'X-Cfgctl-Title: payments: 3 replicas in staging' \
  -d '{"replicas": 3}' "$api/config/payments/staging" > "$run_dir/change.json"
change=$(python -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['id']); print('change request', c['id'], c['state'], '-', c['title'], file=sys.stderr)" "$run_dir/change.json")
printf 'alice approving her own change: HTTP %s\n' \
  "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $alice" "$api/changes/$change/approve")"
step "curl -X POST $api/changes/$change/approve; curl -X POST $api/changes/$change/merge     # bob"
curl -s -o /dev/null -w 'approved by bob: HTTP %{http_code}\n' -X POST -H "Authorization: Bearer $bob" "$api/changes/$change/approve"
curl -s -X POST -H "Authorization: Bearer $bob" "$api/changes/$change/merge" \
  | python -c "import json,sys; c=json.load(sys.stdin); print('change request', c['id'], c['state'], 'at', (c.get('merged') or '?')[:12]) if 'id' in c else sys.exit(json.dumps(c))"
run cfgctl get payments replicas --env staging
[ "$(cfgctl get payments replicas --env staging)" = 3 ] || { echo "the merged change is not on main" >&2; exit 1; }

# --- the fleet: the merged commit published to etcd, an agent on an etcd source applies it ------
chapter fleet "The fleet: a commit published to etcd, applied by an agent that watches it"
if command -v etcd >/dev/null 2>&1; then
  etcd_client=$(free_port); etcd_peer=$(free_port)
  ep="http://127.0.0.1:$etcd_client"
  step "etcd --listen-client-urls $ep &     # one local member (a fleet runs three or five)"
  etcd --name demo --data-dir "$run_dir/etcd" --listen-client-urls "$ep" --advertise-client-urls "$ep" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "demo=http://127.0.0.1:$etcd_peer" --logger zap --log-outputs "$run_dir/etcd.log" \
    --log-level warn & pids+=($!)
  for _ in $(seq 1 300); do curl -sf "$ep/health" >/dev/null && break; sleep 0.05; done
  run cfgctl fleet publish --etcd "$ep"
  mkdir -p "$run_dir/fleet"
  cat > "$run_dir/fleet/agent.yaml" <<YAML
source: {etcd: {endpoints: ["$ep"], env: prod}, poll_interval: 1h}
state_dir: $run_dir/fleet/state
targets:
  - {service: payments, env: prod, path: $run_dir/fleet/payments.yaml}
YAML
  step "cat agent.yaml; cfgctl agent run --config agent.yaml &     # source: etcd, watched"
  cat "$run_dir/fleet/agent.yaml"
  cfgctl agent run --config "$run_dir/fleet/agent.yaml" 2>"$run_dir/fleet/agent.log" & pids+=($!)
  wait_file "$run_dir/fleet/payments.yaml"
  run grep pool_size "$run_dir/fleet/payments.yaml"
  export CFGCTL_TRACE_DIR="$run_dir/traces"   # the spans of the CLI, the publish included
  run cfgctl set payments db.pool_size 50 --env prod --commit -m "payments: pool 50 in prod"
  run cfgctl fleet publish --etcd "$ep"
  for _ in $(seq 1 200); do grep -q "pool_size: 50" "$run_dir/fleet/payments.yaml" && break; sleep 0.05; done
  step "grep pool_size payments.yaml     # the agent's watch saw the new head (its poll is 1 h)"
  grep pool_size "$run_dir/fleet/payments.yaml"
  grep -q "pool_size: 50" "$run_dir/fleet/payments.yaml" || { echo "the agent on etcd did not apply the commit" >&2; cat "$run_dir/fleet/agent.log" >&2; exit 1; }
  run cfgctl fleet status --etcd "$ep"
  step "cfgctl trace HEAD's commit --dir traces --dir agent's state_dir/traces     # one trace: commit, publish, apply"
  cfgctl trace "$(git rev-parse HEAD)" --dir "$run_dir/traces" --dir "$run_dir/fleet/state/traces"
  unset CFGCTL_TRACE_DIR
else
  echo "(etcd is not installed: apt-get install etcd-server shows the fleet here)"
fi

# --- a backup of every ref, and the restore drill: digests compared, every secret opened ---------
chapter backup "A backup of every ref and its restore drill"
run cfgctl backup create "$run_dir/cfg.backup"
run cfgctl backup drill "$run_dir/cfg.backup"

printf '\nThe demo repository is in %s/ (a Git repository): try `cfgctl -C %s --help`.\n' "$dir" "$dir"
