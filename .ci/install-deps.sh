#!/usr/bin/env bash
# Installs from Debian what the deploy tests need: Docker (daemon + CLI), Prometheus (binary and
# promtool; the service is NOT started) and debootstrap (to build a local base image, since no
# registry is reachable). Idempotent; run as root on Debian 12. Called by .ci/run.
set -euo pipefail

PKGS=(docker.io prometheus debootstrap ca-certificates)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get)" >&2
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: ${PKGS[*]} already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting services (prometheus, docker): the tests start their own
# processes on loopback. A policy-rc.d that already exists is left alone.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod +x "$policy"
  ours=1
fi
trap '[ "$ours" -eq 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
docker_version="$(dockerd --version 2>/dev/null || true)"
prometheus_version="$(prometheus --version 2>&1 || true)"
echo "install-deps: done (${docker_version%%$'\n'*}; ${prometheus_version%%$'\n'*})"
