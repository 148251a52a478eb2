#!/usr/bin/env bash
# Unpacks Debian's kubectl 1.20 (bookworm's kubernetes-client package) into .oleada/tools/kubectl-1.20, the older of
# the two client versions the kubectl tests cover (test/integration/sim/kubectl-bin.ts). Unpacked rather than
# installed: the tests need that version whatever kubectl the machine has on its PATH (on some it is Google Cloud
# SDK's). Idempotent: when the binary there already reports 1.20, it does nothing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'install-kubectl-1.20: %s\n' "$*" >&2; }

dir=.oleada/tools/kubectl-1.20
is_120() { "$dir/kubectl" version --client 2>/dev/null | grep -q 'GitVersion:"v1\.20\.'; }
if [ -x "$dir/kubectl" ] && is_120; then exit 0; fi

if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-deb >/dev/null 2>&1; then
  say "needs apt-get and dpkg-deb (Debian) to fetch the kubernetes-client package; put a kubectl 1.20 at $dir/kubectl yourself"
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# apt drops to the _apt user to download, which must be able to write here.
chmod 755 "$work"
download() { (cd "$work" && apt-get download -qq kubernetes-client >/dev/null 2>&1); }
if ! download; then
  if [ "$(id -u)" != 0 ]; then
    say "apt-get download kubernetes-client failed; run 'apt-get update' as root (or run this as root) and try again"
    exit 1
  fi
  say "refreshing the apt package lists"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  download || { say "apt-get download kubernetes-client failed after apt-get update; is this Debian bookworm?"; exit 1; }
fi
dpkg-deb -x "$work"/kubernetes-client_*.deb "$work/root"
mkdir -p "$dir"
install -m 755 "$work/root/usr/bin/kubectl" "$dir/kubectl.tmp"
mv -f "$dir/kubectl.tmp" "$dir/kubectl"
if ! is_120; then
  say "the kubernetes-client package holds $("$dir/kubectl" version --client 2>&1 | head -1), not 1.20; the tests need Debian bookworm's"
  exit 1
fi
say "$("$dir/kubectl" version --client 2>/dev/null | grep -o 'GitVersion:"[^"]*"') in $dir"
