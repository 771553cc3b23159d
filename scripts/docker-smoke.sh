#!/usr/bin/env bash
# Build the Docker image and check it for real (minutes: not part of .ci/run).
#
# Usage, from anywhere in the repository:  bash scripts/docker-smoke.sh [--no-build] [--keep]
#   --no-build   check an image built before (wiredesk:smoke)
#   --keep       keep the image afterwards (the volumes and containers are always removed)
# Environment: BUILD_SCRIPT (default ../shared/tools/docker-build-local.sh, podman on a local
#              Debian base: no Docker daemon or Docker Hub needed), TAG (default wiredesk:smoke),
#              PODMAN (default podman).
#
# Checks: the build (its time and the image size, which must stay <= 600 MB); the demo (the
# image's own CMD) stores the samples as a non-root user into a host folder owned by root;
# `wiredesk run` with the store on a named volume, then a new container finds the store on it
# (every page already seen); `prefect version`; `wiredesk serve` turns healthy by the image's
# own HEALTHCHECK. The containers run in their own network namespace (no network), so the
# ports Prefect opens for its local API never collide with anything on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD_SCRIPT=${BUILD_SCRIPT:-$ROOT/../shared/tools/docker-build-local.sh}
[ -f "$BUILD_SCRIPT" ] || [ ! -f /work/shared/tools/docker-build-local.sh ] || BUILD_SCRIPT=/work/shared/tools/docker-build-local.sh
TAG=${TAG:-wiredesk:smoke}
PODMAN=${PODMAN:-podman}
MAX_MB=600
BUILD=1 KEEP=0
for arg in "$@"; do
  case $arg in
    --no-build) BUILD=0 ;;
    --keep) KEEP=1 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "docker-smoke: error: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { echo "docker-smoke: $*" >&2; }
fail() { echo "docker-smoke: FAILED: $*" >&2; exit 1; }

work=$(mktemp -d)
volume=wiredesk-smoke-$$
serve=wiredesk-smoke-serve-$$
cleanup() {
  $PODMAN rm -f -v "$serve" >/dev/null 2>&1 || true
  $PODMAN volume rm -f "$volume" >/dev/null 2>&1 || true
  # the demo's files belong to the container's uid 1000: remove them as the owner of $work can
  rm -rf "$work" 2>/dev/null || $PODMAN unshare rm -rf "$work" 2>/dev/null || true
  [ "$KEEP" = 1 ] || [ "$BUILD" = 0 ] || $PODMAN rmi -f "$TAG" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# 1. Build with the shared script (it makes the local base image once). HEALTHCHECK is kept
#    only in the docker image format (podman's default OCI format drops it).
if [ "$BUILD" = 1 ]; then
  [ -f "$BUILD_SCRIPT" ] || fail "no build script at $BUILD_SCRIPT (set BUILD_SCRIPT)"
  start=$(date +%s)
  BUILDAH_FORMAT=docker bash "$BUILD_SCRIPT" -t "$TAG"
  build_s=$(( $(date +%s) - start ))
  say "build: ${build_s} s"
fi
size=$($PODMAN image inspect --format '{{.Size}}' "$TAG")
size_mb=$(( size / 1000000 ))
say "image $TAG: $size_mb MB (limit $MAX_MB MB)"
[ "$size_mb" -le "$MAX_MB" ] || fail "the image is $size_mb MB, over $MAX_MB MB"

# podman's default limits fail where the host's hard limits are lower (as in the build script).
nofile=$(ulimit -Hn); nproc=$(ulimit -Hu); pid_max=$(cat /proc/sys/kernel/pid_max)
[ "$nofile" != unlimited ] || nofile=1048576
if [ "$nproc" = unlimited ] || [ "$nproc" -gt "$pid_max" ]; then nproc=$pid_max; fi
LIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")
run=($PODMAN run --rm --network none --no-healthcheck "${LIMITS[@]}")

# The image's Python satisfies pyproject's requires-python.
spec=$(sed -nE 's/^requires-python *= *"([^"]+)"/\1/p' pyproject.toml)
pyver=$("${run[@]}" --entrypoint /opt/venv/bin/python "$TAG" -c "import sys; from packaging.specifiers import SpecifierSet
v = '%d.%d.%d' % sys.version_info[:3]; print(v); sys.exit(v not in SpecifierSet('$spec'))") ||
  fail "the image's Python $pyver does not satisfy requires-python $spec"
say "image Python $pyver (requires-python $spec)"

# 2. The demo, as the image runs it, into a host folder that belongs to root.
mkdir -p "$work/data"
[ "$(id -u)" != 0 ] || chown 0:0 "$work/data"
say "demo (the image's CMD) into a root-owned host folder"
start=$(date +%s)
"${run[@]}" -v "$work/data:/data" "$TAG" > "$work/demo.out"
say "demo: $(( $(date +%s) - start )) s; $(tail -n 2 "$work/demo.out" | tr '\n' ' ')"
[ -s "$work/data/wiredesk.db" ] || fail "the demo left no store in the host folder"
[ -s "$work/data/corpus.jsonl" ] || fail "the demo left no corpus in the host folder"
owner=$($PODMAN unshare stat -c %u "$work/data/wiredesk.db" 2>/dev/null || stat -c %u "$work/data/wiredesk.db")
[ "$owner" != 0 ] || fail "the store was written by root"
say "demo stored $(wc -l < "$work/data/corpus.jsonl") articles; files written by uid $owner, not root"
uid=$("${run[@]}" --entrypoint sh "$TAG" -c 'id -u wiredesk')
[ "$owner" = "$uid" ] || fail "the store belongs to uid $owner, not to the wiredesk user ($uid)"
"${run[@]}" "$TAG" --version >/dev/null || fail "wiredesk --version failed"

# 3. `wiredesk run` with the store on a volume; a second container finds it there.
$PODMAN volume create "$volume" >/dev/null
first=$("${run[@]}" -v "$volume:/data" "$TAG" run --input /app/samples --manifest /app/samples/html/meta.jsonl --json)
second=$("${run[@]}" -v "$volume:/data" "$TAG" run --input /app/samples --manifest /app/samples/html/meta.jsonl --json)
python3 - "$first" "$second" <<'PY' || fail "the store did not outlive its container"
import json, sys
first, second = (json.loads(s[s.index("{"):]) for s in sys.argv[1:3])
print(f"docker-smoke: first container: {first['pages_read']} pages read, {first['stored']} stored; "
      f"second container: {second['already_seen']} already seen, {second['stored']} stored", file=sys.stderr)
assert first["stored"] > 0, "the first run stored nothing"
assert second["stored"] == 0 and second["already_seen"] >= first["stored"], "the second container did not find the store"
PY
"${run[@]}" -v "$volume:/data" "$TAG" stats > "$work/stats.out" || fail "wiredesk stats on the volume failed"

# 4. Prefect in the image.
version=$("${run[@]}" --entrypoint prefect "$TAG" version) || fail "prefect version failed"
say "prefect version: $(echo "$version" | awk -F': *' '/^Version/ {print $2}')"

# 5. `wiredesk serve` turns healthy by the image's HEALTHCHECK.
# (interval disabled: no systemd timer here; `podman healthcheck run` runs the image's check)
$PODMAN run -d --name "$serve" --network none --health-interval disable "${LIMITS[@]}" "$TAG" serve --quiet \
  > /dev/null 2> >(grep -v 'systemd connection' >&2)
healthy=0
for _ in $(seq 1 60); do
  if $PODMAN healthcheck run "$serve" >/dev/null 2>&1; then healthy=1; break; fi
  [ "$($PODMAN inspect --format '{{.State.Running}}' "$serve")" = true ] || break
  sleep 3
done
[ "$healthy" = 1 ] || { $PODMAN logs "$serve" 2>&1 | tail -n 20 >&2; fail "wiredesk serve did not turn healthy"; }
say "serve: healthy ($($PODMAN exec "$serve" /opt/venv/bin/python /opt/venv/lib/wiredesk-healthcheck.py))"

say "OK: build ${build_s:-(not built)} s, image $size_mb MB, demo as uid $uid"
