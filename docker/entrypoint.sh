#!/bin/sh
# wiredesk's entrypoint in the Docker image, installed as /usr/local/bin/wiredesk and, by a
# symlink, /usr/local/bin/prefect (both ahead of /opt/venv/bin on PATH).
#
# Started as root (the default): anything under /data not owned by the wiredesk user is handed
# to it -- a host folder bind-mounted on /data is often created by root (`docker run -v
# $PWD/data:/data` creates a missing one as root) -- then the program runs as wiredesk (uid 1000),
# never as root. Started as another user (`docker run --user ...`, Kubernetes runAsUser), the
# program just runs; /data must then be writable by that user (the image's /data is group 0,
# group-writable, for platforms that run an arbitrary uid in group 0).
set -eu
program=/opt/venv/bin/$(basename "$0")
# As the container's PID 1 (no `docker run --init`), run under tini, which forwards `docker stop`'s
# SIGTERM (a Python PID 1 would ignore it and be killed 10 s later) and reaps orphaned processes.
init=
if [ "$$" = 1 ] && command -v tini >/dev/null 2>&1; then init="tini --"; fi
if [ "$(id -u)" != 0 ]; then
  exec $init "$program" "$@"
fi
as_wiredesk="setpriv --reuid=wiredesk --regid=wiredesk --init-groups"
if [ -d /data ]; then
  # (a read-only file mounted into /data may refuse: only a /data left unwritable is worth a word)
  find /data -xdev ! -user wiredesk -exec chown wiredesk {} + 2>/dev/null || true
  if ! $as_wiredesk test -w /data; then
    echo "wiredesk: warning: /data is not writable by the wiredesk user (uid $(id -u wiredesk)):" \
      "mount a writable folder, or run with --user UID of its owner" >&2
  fi
fi
export HOME=/home/wiredesk USER=wiredesk LOGNAME=wiredesk
exec $init $as_wiredesk "$program" "$@"
