# Sourced by bin/flashllm, bin/test and .ci/run: sets JAVA_HOME to a JDK >= 25.
# Order: $JAVA_HOME, then every JDK under /usr/lib/jvm (newest first).
flashllm_jdk_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}
flashllm_find_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    c="${c%/}"
    [ -n "$c" ] && [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v="$(flashllm_jdk_major "$c")"
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  cat >&2 <<'MSG'
flashllm: no JDK 25 or newer found (looked at $JAVA_HOME, then /usr/lib/jvm/*).
Install one, e.g. on Debian/Ubuntu:  apt-get install temurin-25-jdk   (Adoptium repository)
or download Temurin 25 from https://adoptium.net and set JAVA_HOME to it.
MSG
  return 1
}
