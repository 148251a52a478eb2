#!/usr/bin/env bash
# The one test command: installs whatever is missing, then runs the typecheck, the lint, the circular-import check and
# every test against real Redis, PostgreSQL, Prometheus and kube-sim.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh --test
exec npm test
