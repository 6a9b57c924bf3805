#!/usr/bin/env bash
# Installs what cohort needs on Debian 12 and does nothing when all is present:
# Debian packages with apt-get (as root, or through sudo), then the npm
# packages of frontend/, tests/ and tests/browser/ from their lockfiles with `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential pkg-config git curl ca-certificates procps
  libfcgi-dev libfcgi-bin libhiredis-dev libjson-c-dev libarchive-dev libcurl4-openssl-dev
  libsodium-dev libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libsqlite3-dev sqlite3
  libcmocka-dev redis-server redis-tools nginx-light nodejs npm chromium
)

missing=()
for p in "${PKGS[@]}"; do
  case "$p" in
    # Any nginx flavour or a newer node will do; only install when the command is absent.
    nginx-light) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=("$p") ;;
    nodejs) command -v node >/dev/null 2>&1 || missing+=("$p") ;;
    npm) command -v npm >/dev/null 2>&1 || missing+=("$p") ;;
    *) dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p") ;;
  esac
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # Debian starts the packaged services; cohort runs its own on other ports.
  for svc in redis-server nginx; do
    "${SUDO[@]}" service "$svc" stop >/dev/null 2>&1 || true
  done
fi

npm_ci() {
  local dir=$1
  # node_modules/.package-lock.json is npm's record of what is installed;
  # when it matches the lockfile there is nothing to do.
  if [ -f "$dir/node_modules/.package-lock.json" ] && \
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    return 0
  fi
  echo "deps: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
npm_ci frontend
npm_ci tests
npm_ci tests/browser
