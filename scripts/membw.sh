#!/usr/bin/env bash
# DRAM read bandwidth with plain loads: the ceiling for a decode that streams every weight once per
# token (docs/benchmarks.md §1). Compiles scripts/membw.c into a temporary directory and runs it.
#   scripts/membw.sh [MiB] [threads]      # default: 1024 MiB, 2 threads
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CC="${CC:-cc}"
command -v "$CC" >/dev/null || { echo "membw: needs a C compiler (Debian: apt-get install gcc)" >&2; exit 1; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$CC" -O3 -march=native -pthread "$ROOT/scripts/membw.c" -o "$OUT/membw"
"$OUT/membw" "${1:-1024}" "${2:-2}"
