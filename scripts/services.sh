#!/usr/bin/env bash
# Install the server software the tests run against, when missing and when we may:
# nginx (tests/test_realsite_nginx.py serves generated static sites with it) and GNU Wget
# (tests/test_warc_wget.py has it crawl those sites into a web archive).
# Run as root on Debian/Ubuntu (CI, the Dockerfile); elsewhere it only says what is missing,
# and the tests skip (or, under WIREDESK_REQUIRE_SERVICES=1, fail).
set -euo pipefail
have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
have_wget() { command -v wget >/dev/null 2>&1; }
if have_nginx && have_wget; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  install() { apt-get install -y -q --no-install-recommends "$1" >/dev/null 2>&1; }
  if ! have_nginx; then
    echo "services: installing nginx (Debian package nginx-light, else nginx)"
    install nginx-light || install nginx || { apt-get update -q >/dev/null && { install nginx-light || install nginx; }; } || true
    # The package starts a default server on port 80 where a service manager runs; the
    # tests start their own nginx on their own ports.
  fi
  if ! have_wget; then
    echo "services: installing wget"
    install wget || { apt-get update -q >/dev/null && install wget; } || true
  fi
fi
have_nginx || echo "services: nginx is not installed (apt-get install nginx-light); its tests will skip" >&2
have_wget || echo "services: wget is not installed (apt-get install wget); its tests will skip" >&2
exit 0
