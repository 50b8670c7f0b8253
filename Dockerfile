# flashllm server image.
#
#   docker build -t flashllm .                       # builds the jar inside (needs Maven Central)
#   docker build --build-arg JAR=prebuilt -t flashllm .   # uses server/target/flashllm.jar from ./mvnw package
#
# Build arguments:
#   JDK_IMAGE      JDK 25 image that builds the jar and links the runtime (default: the official
#                  Eclipse Temurin 25 JDK image). Must have its JDK at $JAVA_HOME with jlink.
#   RUNTIME_IMAGE  OS the runtime lands on (default ubuntu:24.04, the base of eclipse-temurin:25,
#                  so the layers are shared). Needs glibc and bash (the health check uses bash).
#   JAR            maven (default): ./mvnw package inside the build stage;
#                  prebuilt: take server/target/flashllm.jar from the build context (no network).
#   JLINK_MODULES  modules of the linked runtime (see the comment at the jlink step).
# No registry can be reached in CI, so there .ci/docker-base.sh builds local stand-ins and the test
# passes --build-arg JDK_IMAGE=flashllm/jdk25-local --build-arg RUNTIME_IMAGE=flashllm/base:bookworm
# --build-arg JAR=prebuilt.
ARG JDK_IMAGE=eclipse-temurin:25-jdk
ARG RUNTIME_IMAGE=ubuntu:24.04

FROM ${JDK_IMAGE} AS build
ARG JAR=maven
WORKDIR /src
COPY . .
RUN set -eu; \
    case "$JAR" in \
      prebuilt) test -f server/target/flashllm.jar || { \
          echo "JAR=prebuilt but server/target/flashllm.jar is not in the build context; run ./mvnw -DskipTests package first" >&2; exit 1; } ;; \
      maven) ./mvnw -B -ntp -DskipTests -pl server -am package ;; \
      *) echo "JAR must be maven or prebuilt, not '$JAR'" >&2; exit 1 ;; \
    esac; \
    mkdir -p /out; cp server/target/flashllm.jar /out/flashllm.jar

# Runtime modules, from jdeps over the jars the shaded jar is made of: Vert.x/Netty (java.logging,
# java.naming, jdk.naming.dns for the DNS resolver, jdk.unsupported), Micrometer's JVM and process
# meters (java.management, jdk.management), the Vector API, and java.desktop because JNA (Hugging
# Face tokenizer natives, used for tokenizer.json models) links java.awt types.
ARG JLINK_MODULES=java.base,java.logging,java.management,jdk.management,java.naming,jdk.naming.dns,jdk.unsupported,jdk.incubator.vector,java.desktop
RUN "$JAVA_HOME/bin/jlink" --add-modules "$JLINK_MODULES" \
      --strip-java-debug-attributes --no-man-pages --no-header-files --compress=zip-6 \
      --output /out/jre \
    && /out/jre/bin/java --add-modules jdk.incubator.vector -version

FROM ${RUNTIME_IMAGE}
# Fixed numeric ids so that volume ownership and runAsNonRoot policies can name them.
ARG UID=10001
ARG GID=10001
RUN set -eu; \
    echo "flashllm:x:${GID}:" >> /etc/group; \
    echo "flashllm:x:${UID}:${GID}:flashllm:/var/lib/flashllm:/usr/sbin/nologin" >> /etc/passwd; \
    mkdir -p /models /var/lib/flashllm /opt/flashllm/config; \
    chown "${UID}:${GID}" /models /var/lib/flashllm
COPY --from=build /out/jre /opt/flashllm/jre
COPY --from=build /out/flashllm.jar /opt/flashllm/flashllm.jar
COPY config/flashllm.yaml /opt/flashllm/config/flashllm.yaml
COPY deploy/healthcheck.sh /opt/flashllm/bin/healthcheck

# Configuration: FLASHLLM_<SETTING> variables override /opt/flashllm/config/flashllm.yaml (see
# that file for every setting). In a container the server listens on all interfaces, so it refuses
# to start without FLASHLLM_API_KEY (or FLASHLLM_INSECURE_ALLOW_NO_KEY=true behind a trusted proxy).
# FLASHLLM_MODEL unset serves the built-in demo model (synthesized under FLASHLLM_HOME on first
# start); put real models in the /models volume.
ENV FLASHLLM_HOST=0.0.0.0 \
    FLASHLLM_PORT=8080 \
    FLASHLLM_HOME=/var/lib/flashllm \
    JAVA_HOME=/opt/flashllm/jre \
    PATH=/opt/flashllm/jre/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Memory under a container limit: the heap holds only request state and token buffers; weights are
# memory-mapped (their page cache counts against the limit), the KV cache and the I/O buffers are
# off-heap, Netty adds direct buffers. So the heap gets a quarter of the limit and the rest is left
# to those. MaxDirectMemorySize is left to its default (= max heap): it bounds Netty's NIO direct
# buffers only (the FFM allocations of the KV and neuron caches do not count against it).
# Override with -e JDK_JAVA_OPTIONS=...
ENV JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=25 -XX:InitialRAMPercentage=5 -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError -Xss4m"

WORKDIR /opt/flashllm
VOLUME ["/models"]
EXPOSE 8080
USER ${UID}:${GID}
# bash's /dev/tcp speaks to /health: no curl in the image, no JVM started every interval.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 CMD ["/opt/flashllm/bin/healthcheck"]
# Exec form: java is PID 1 and gets SIGTERM directly, so the server drains gracefully
# (shutdown-grace-seconds; give docker stop a longer --time). Arguments after the image name
# replace "serve", e.g. `docker run ... flashllm convert ...`.
# The -XX flags: C2's clean-up between late inlines, without which some runs box the kernels'
# vectors (io.flashllm.kernels.JitFlags); the C heap the JIT frees given back each second, which a
# memory budget counts on (io.flashllm.flashstore.budget.RuntimeOverhead).
ENTRYPOINT ["/opt/flashllm/jre/bin/java", "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UnlockDiagnosticVMOptions", "-XX:+IncrementalInlineForceCleanup", "-XX:CompileCommand=quiet", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh", "-XX:TrimNativeHeapInterval=1000", "-jar", "/opt/flashllm/flashllm.jar"]
CMD ["serve"]
