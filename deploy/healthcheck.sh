#!/bin/bash
# Docker HEALTHCHECK: healthy when GET /health answers 200 (the server answers 503 while the model
# loads). Uses bash's /dev/tcp so the image needs neither curl nor a second JVM.
port="${FLASHLLM_PORT:-8080}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 4 status <&3 || exit 1
case "$status" in
  "HTTP/1."[01]" 200"*) exit 0 ;;
  *) echo "health: ${status%$'\r'}"; exit 1 ;;
esac
