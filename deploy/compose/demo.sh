#!/bin/sh
# The demo service of docker-compose.yml, the same story as scripts/demo.sh: checkout 1.1.0 goes through three waves
# (a person approves the second), then 1.2.0, which fails 8 % of its requests, is rolled back by Oleada on its own.
set -eu
export OLEADA_URL=http://127.0.0.1:8080
OLEADA_TOKEN=$(cat /var/lib/oleada/demo/token)
export OLEADA_TOKEN
oleada() { node src/cli/bin.js "$@"; }

echo "demo: rollout 1, checkout 1.1.0, a good release"
oleada rollout create -f /demo/checkout-1.1.0.yaml --wait &
first=$!
# The europe wave waits for an approval: give it, as a person would, once it is asked for.
until id=$(oleada rollout list --app checkout --phase awaiting_approval --output json |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const l=JSON.parse(s);const i=(l.items??l)[0];if(!i)process.exit(1);console.log(i.id)})'); do
  sleep 1
done
echo "demo: a person approves wave europe of rollout $id"
oleada rollout approve "$id" --reason 'staging looks good' >/dev/null
wait "$first"

echo "demo: rollout 2, checkout 1.2.0, a bad release; Oleada should roll it back"
if oleada rollout create -f /demo/checkout-1.2.0.yaml --wait; then
  echo "demo: rollout 2 should have been rolled back" >&2
  exit 1
fi
echo "demo: done. Dashboard and API: http://127.0.0.1:8080 (token: docker compose exec oleada cat /var/lib/oleada/demo/token)"
