#!/usr/bin/env bash
# Install the server software the tests run against, when missing and when we may:
# nginx (tests/test_realsite_nginx.py serves generated static sites with it).
# Run as root on Debian/Ubuntu (CI, the Dockerfile); elsewhere it only says what is missing,
# and the tests skip (or, under WIREDESK_REQUIRE_SERVICES=1, fail).
set -euo pipefail
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
if have_nginx; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "services: installing nginx (Debian package nginx-light, else nginx)"
  export DEBIAN_FRONTEND=noninteractive
  install() { apt-get install -y -q --no-install-recommends "$1" >/dev/null 2>&1; }
  install nginx-light || install nginx || { apt-get update -q >/dev/null && { install nginx-light || install nginx; }; } || true
  # The package starts a default server on port 80 where a service manager runs; the
  # tests start their own nginx on their own ports.
  have_nginx && exit 0
fi
echo "services: nginx is not installed (apt-get install nginx-light); its tests will skip" >&2
