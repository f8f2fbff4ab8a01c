#!/usr/bin/env bash
# Starts a Docker engine for ecom's tests and CI that never touches a user's engine:
# Debian's docker.io daemon, as root, with its own socket, data root, exec root,
# pidfile, bridge and containerd namespace, overlay2 storage. Idempotent: does nothing
# when the engine already answers. Prints the DOCKER_HOST to use on stdout.
#
#   export DOCKER_HOST="$(.ci/docker-engine.sh)"
#
# Environment: ECOM_TEST_DOCKER_RUN (default /run/ecom-test-docker),
# ECOM_TEST_DOCKER_DATA (default /var/lib/ecom-test-docker).
set -euo pipefail

RUN_DIR="${ECOM_TEST_DOCKER_RUN:-/run/ecom-test-docker}"
DATA_DIR="${ECOM_TEST_DOCKER_DATA:-/var/lib/ecom-test-docker}"
SOCKET="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOGFILE="$RUN_DIR/dockerd.log"
# Our own bridge instead of docker0, so a user's engine keeps its default network.
BRIDGE=ecom-docker0
BRIDGE_CIDR=10.213.0.1/24
START_TIMEOUT_S=60

log() { printf '%s docker-engine: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

answers() { curl -fsS --max-time 2 --unix-socket "$SOCKET" http://localhost/_ping >/dev/null 2>&1; }

if answers; then
  echo "unix://$SOCKET"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "the test engine runs as root; run: sudo $0"
  exit 3
fi
if [ ! -x /usr/sbin/dockerd ]; then
  log "Debian's docker daemon is missing; run: apt-get install -y docker.io"
  exit 3
fi

# A stale pidfile of a daemon that died would make dockerd refuse to start.
if [ -f "$PIDFILE" ]; then
  pid="$(cat "$PIDFILE")"
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ]; then
    log "dockerd (pid $pid) is running but does not answer yet; waiting"
  else
    rm -f "$PIDFILE" "$SOCKET"
  fi
fi

if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
  ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
fi
ip link set "$BRIDGE" up

if [ ! -f "$PIDFILE" ]; then
  mkdir -p "$RUN_DIR" "$DATA_DIR"
  log "starting dockerd (socket $SOCKET, data $DATA_DIR, log $LOGFILE)"
  # --iptables=false: the rules of a user's engine stay untouched; the tests' containers
  # use the host network or ports published through docker-proxy, and need no NAT.
  setsid /usr/sbin/dockerd \
    --host "unix://$SOCKET" \
    --data-root "$DATA_DIR" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$PIDFILE" \
    --storage-driver overlay2 \
    --bridge "$BRIDGE" \
    --iptables=false \
    --ip-masq=false \
    --containerd-namespace ecom-test \
    --containerd-plugins-namespace ecom-test-plugins \
    </dev/null >>"$LOGFILE" 2>&1 &
fi

for _ in $(seq 1 "$START_TIMEOUT_S"); do
  if answers; then
    log "engine answers"
    echo "unix://$SOCKET"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within ${START_TIMEOUT_S} s; last lines of $LOGFILE:"
tail -n 20 "$LOGFILE" >&2 || true
exit 1
