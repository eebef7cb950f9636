#!/usr/bin/env bash
# Install the Debian packages a test or bench needs, when missing: `scripts/debian-packages.sh chromium wrk`.
# Needs root (CI and the developer machines run as root); elsewhere it says what to install and goes on.
set -euo pipefail
declare -A binary=([chromium]=/usr/bin/chromium [wrk]=/usr/bin/wrk [nginx-light]=/usr/sbin/nginx [caddy]=/usr/bin/caddy)
missing=()
for package in "$@"; do
  path=${binary[$package]:-}
  if [[ -n "$path" && -x "$path" ]] || dpkg -s "$package" >/dev/null 2>&1; then continue; fi
  missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "note: missing Debian packages: ${missing[*]} (install them to run the tests that need them)" >&2
  exit 0
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
