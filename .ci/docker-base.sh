#!/usr/bin/env bash
# Makes Docker usable for the deploy tests on a machine with no registry access:
#   1. starts dockerd (no bridge, no iptables: containers use the host network only) unless a
#      daemon already answers;
#   2. builds flashllm/base:bookworm, a Debian 12 minbase root made by debootstrap and imported;
#   3. builds flashllm/jdk25-local: that base plus this machine's JDK 25 at /opt/java/openjdk
#      (the same place the eclipse-temurin images use), standing in for eclipse-temurin:25-jdk.
# The Dockerfile's JDK_IMAGE / RUNTIME_IMAGE build arguments then point at these two images.
# Idempotent (images are rebuilt only when missing or when the JDK changed); run as root after
# .ci/install-deps.sh. Called by .ci/run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_IMAGE="${FLASHLLM_BASE_IMAGE:-flashllm/base:bookworm}"
JDK_IMAGE="${FLASHLLM_JDK_IMAGE:-flashllm/jdk25-local}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/flashllm-dockerd.log}"
# The legacy builder is part of every daemon; BuildKit would need the buildx plugin here.
export DOCKER_BUILDKIT=0
# Bumped whenever the way the JDK image is made changes, so that old images get rebuilt.
RECIPE=2

log() { echo "docker-base: $*" >&2; }

start_dockerd() {
  if docker info >/dev/null 2>&1; then
    log "dockerd already running"
    return
  fi
  command -v dockerd >/dev/null || { log "dockerd not installed (run .ci/install-deps.sh)"; exit 1; }
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid: the daemon outlives this script and the CI step's process group.
  setsid dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >"$DOCKERD_LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
      log "dockerd ready ($(docker info --format '{{.ServerVersion}} {{.Driver}}'))"
      return
    fi
    sleep 0.5
  done
  log "dockerd did not come up within 60 s; last log lines:"
  tail -n 30 "$DOCKERD_LOG" >&2 || true
  exit 1
}

image_label() { # image label -> value, empty if the image or label is absent
  docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

build_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE present"
    return
  fi
  command -v debootstrap >/dev/null || { log "debootstrap not installed (run .ci/install-deps.sh)"; exit 1; }
  local dir
  dir="$(mktemp -d /tmp/flashllm-rootfs.XXXXXX)"
  log "debootstrap bookworm minbase into $dir"
  debootstrap --variant=minbase bookworm "$dir" "$MIRROR" >"$dir.log" 2>&1 \
    || { tail -n 30 "$dir.log" >&2; rm -rf "$dir" "$dir.log"; exit 1; }
  # Smaller image: no apt lists or caches; nothing in it runs apt.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/var/log/*.log
  tar -C "$dir" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$dir" "$dir.log"
  log "built $BASE_IMAGE"
}

build_jdk() {
  # shellcheck source=../bin/find-jdk.sh
  . "$ROOT/bin/find-jdk.sh"
  flashllm_find_jdk || exit 1
  local version
  version="$(sed -n 's/^JAVA_RUNTIME_VERSION="\(.*\)"/\1/p' "$JAVA_HOME/release")"
  [ -n "$version" ] || version="$(basename "$JAVA_HOME")"
  version="$version recipe-$RECIPE"
  if [ "$(image_label "$JDK_IMAGE" io.flashllm.jdk.version)" = "$version" ] \
     && [ "$(image_label "$JDK_IMAGE" io.flashllm.base)" = "$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")" ]; then
    log "$JDK_IMAGE present (JDK $version)"
    return
  fi
  local ctx
  ctx="$(mktemp -d /tmp/flashllm-jdkctx.XXXXXX)"
  # The JDK is the whole build context. Symbolic links are resolved: Debian-packaged JDKs link
  # lib/security/cacerts (and more) to /etc, which does not exist in the image.
  cp -rL "$JAVA_HOME" "$ctx/jdk"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
COPY jdk /opt/java/openjdk
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL io.flashllm.jdk.version="$version" io.flashllm.base="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"
DOCKERFILE
  log "building $JDK_IMAGE from $JAVA_HOME ($version)"
  docker build -q -t "$JDK_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  # Whole output first, then its first line: `| head -n1` under pipefail fails the script with
  # SIGPIPE (141) whenever java writes its second line after head has exited (seen in CI).
  local banner
  banner="$(docker run --rm --network host "$JDK_IMAGE" java -version 2>&1)"
  printf '%s\n' "${banner%%$'\n'*}" >&2
  log "built $JDK_IMAGE"
}

start_dockerd
build_base
build_jdk
