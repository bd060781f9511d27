#!/usr/bin/env bash
# The tests run against a real memcached and a real PostgreSQL (Debian's
# packages). Install them if they are missing and we may (root with apt-get);
# otherwise say exactly what to install.
set -euo pipefail

missing=()
command -v memcached >/dev/null 2>&1 || [ -x /usr/bin/memcached ] || missing+=(memcached)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages) for the tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package starts its own services; the tests start private ones on free ports.
  (service memcached stop || true) >/dev/null 2>&1
  (service postgresql stop || true) >/dev/null 2>&1
else
  echo "The tests need: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
