#!/bin/sh
# The kube-sim service of docker-compose.yml: on first start, make the demo's API token (kept in the shared volume,
# mode 0600, never printed), then serve three simulated clusters. Oleada reads the kubeconfig and clusters file that
# kube-sim writes beside it.
set -eu
# The defaults are the container's paths; the test (test/integration/deploy/compose.test.ts) runs it elsewhere.
state=${OLEADA_DEMO_STATE:-/var/lib/oleada/demo}
demo_files=${OLEADA_DEMO_FILES:-/demo}
ports=${OLEADA_SIM_PORTS:-6441,6442,6443}
metrics_ports=${OLEADA_SIM_METRICS_PORTS:-9101,9102,9103}
prometheus_url=${OLEADA_SIM_PROMETHEUS_URL:-http://127.0.0.1:9090}
mkdir -p "$state"
umask 077
if [ ! -s "$state/tokens.yaml" ]; then
  node src/cli/bin.js token create --name compose-demo --role admin --output json >"$state/token.json"
  node -e '
    const fs = require("node:fs");
    const created = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    fs.writeFileSync(process.argv[2], created.token + "\n");
    fs.writeFileSync(process.argv[3], JSON.stringify({ tokens: [created.entry] }) + "\n");
  ' "$state/token.json" "$state/token" "$state/tokens.yaml"
  rm "$state/token.json"
fi
exec node src/cli/bin.js sim --clusters staging-eu,prod-eu-1,prod-us-1 --out "$state" --time-scale 5 \
  --ports "$ports" --metrics-ports "$metrics_ports" \
  --behaviours "$demo_files/behaviours.yaml" --prometheus-url "$prometheus_url"
