#!/usr/bin/env bash
# The tests run against real servers and clients from Debian's packages:
# memcached, PostgreSQL, MariaDB, nginx and Caddy (reverse-proxy tests), Chromium (the
# admin page), and python3-pylibmc (libmemcached, for interoperability);
# g++ and make for node-gyp when CI rebuilds better-sqlite3 for Node 24.
# Install what is missing if we may (root with apt-get); otherwise say
# exactly what to install. The list lives here only; .ci/run calls this.
set -euo pipefail

missing=()
[ -x /usr/bin/memcached ] || missing+=(memcached)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/caddy ] || missing+=(caddy)
[ -x /usr/bin/chromium ] || missing+=(chromium)
/usr/bin/python3 -c 'import pylibmc' >/dev/null 2>&1 || missing+=(python3-pylibmc)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# node-gyp builds better-sqlite3 for a second Node (scripts/test-on-node.sh).
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (Debian packages) for the tests..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start their own services; the tests start private ones on free ports.
  for service in memcached postgresql mariadb nginx caddy; do
    (service "$service" stop || true) >/dev/null 2>&1
  done
else
  echo "The tests need: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
