#!/usr/bin/env bash
# Reproduces the capped run of docs/benchmarks.md §4 (issue "Flash bundles"): a 90%-sparse ReLU-gated synthetic
# Llama with the dimensions of the 1.1B reference, converted to a flash bundle, decoded inside a cgroup
# (v1) memory limit after dropping the page cache. For comparison it runs the same model as a plain
# memory-mapped GGUF (dense, no flash techniques) under the same limit, in the same run.
#
#   sudo scripts/capped-run.sh                 # 800M cap, gate-exact
#   CAP=600M SELECTOR=gate-exact sudo scripts/capped-run.sh
#   MIN_READ=4K sudo scripts/capped-run.sh      # one neuron per read: no read amplification
#   CAP=600M MIN_READ=4K DENSE=0 sudo scripts/capped-run.sh   # gates read from flash per layer
#   CAP=600M GATES=bundled SELECTOR=predicted sudo scripts/capped-run.sh   # the predictor's run (calibrates once)
#   BENCH_EXTRA=--no-warmup sudo scripts/capped-run.sh   # extra flags for the bundle's bench
#   BENCH_EXTRA='--prefetch-guesses 64' sudo scripts/capped-run.sh   # gate-exact reads 64 guessed neurons of the next layer ahead
#   JAVA_EXTRA=-Dflashllm.selectChunks=1 sudo scripts/capped-run.sh   # extra JVM flags (here: the old selection order)
#   BUDGET=796917760 sudo scripts/capped-run.sh   # --memory-budget in bytes instead of cap - heap
#   HEAP=64m GC=-XX:+UseParallelGC BUDGET=$((720<<20)) sudo scripts/capped-run.sh   # session 9's settings
#   FIO=0 sudo scripts/capped-run.sh             # skip the fio measurement of the bundle's file after the runs
#   FFN_IN_RAM=1 MIN_READ=4K DENSE=0 sudo scripts/capped-run.sh   # the FFN files in tmpfs (outside the cap):
#                                                # what the same code does when a flash read costs a copy
#
# Needs root (cgroup, drop_caches). Work files go to $WORK (default /var/tmp/flashllm-capped, ~3 GiB).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${WORK:-/var/tmp/flashllm-capped}"
CAP="${CAP:-800M}"
SELECTOR="${SELECTOR:-gate-exact}"
THREADS="${THREADS:-2}"
PROMPT_TOKENS="${PROMPT_TOKENS:-16}"
GEN_TOKENS="${GEN_TOKENS:-64}"
CTX="${CTX:-256}"
# The decode allocates next to nothing (a few KiB per token), so a small heap and the Serial
# collector (no parallel-GC tables, ~7 MiB) leave more of the cap to the neuron cache; start-up
# pays ~1 s more collecting (docs/benchmarks.md §4, session 10).
HEAP="${HEAP:-48m}"
GC="${GC:--XX:+UseSerialGC}"
WINDOW="${WINDOW:-5}"
GATES="${GATES:-resident}"   # convert --gates: resident (gate-exact) or bundled (gates on flash; use SELECTOR=predicted)
CALIB_TOKENS="${CALIB_TOKENS:-1024}"  # SELECTOR=predicted: calibration tokens when the bundle has no predictors yet
RANK="${RANK:-128}"
MIN_READ="${MIN_READ:-32K}"  # convert --min-read: smallest flash read (neurons are grouped up to it)
DENSE="${DENSE:-1}"          # also run the plain GGUF under the same cap (slow: it re-reads the file)
RUN_TIMEOUT="${RUN_TIMEOUT:-600}"  # seconds a run may take before it is stopped (a thrashing run takes many minutes)

[ "$(id -u)" -eq 0 ] || { echo "capped-run: run as root (cgroup and drop_caches need it)" >&2; exit 1; }
CG_ROOT=/sys/fs/cgroup/memory
[ -w "$CG_ROOT" ] || { echo "capped-run: cgroup v1 memory controller not found at $CG_ROOT" >&2; exit 1; }

to_bytes() { numfmt --from=iec "${1^^}" 2>/dev/null || { echo "capped-run: bad size $1" >&2; exit 1; }; }
CAP_BYTES=$(to_bytes "$CAP")
mkdir -p "$WORK"
FL="$ROOT/bin/flashllm"
MODEL="$WORK/relu-1.1b-q8_0.gguf"
BUNDLE="$WORK/relu-1.1b-q8_0.bundle"
[ "${MIN_READ^^}" = 32K ] || BUNDLE="${BUNDLE%.bundle}-min${MIN_READ,,}.bundle"
[ "$GATES" = resident ] || BUNDLE="${BUNDLE%.bundle}-gates-$GATES.bundle"

if [ ! -f "$MODEL" ]; then
  echo "== synth 90%-sparse ReLU Llama 1.1B (Q8_0) -> $MODEL" >&2
  "$FL" synth --arch llama-relu --dim 2048 --layers 16 --heads 32 --kv-heads 8 --ffn 8192 --vocab 32000 \
      --type Q8_0 --sparsity 0.9 --format gguf --seed 11 --out "$MODEL"
fi
if [ ! -d "$BUNDLE" ]; then
  echo "== convert -> $BUNDLE" >&2
  "$FL" convert --model "$MODEL" --out "$BUNDLE" --min-read "$MIN_READ" --gates "$GATES"
fi
if [ "$SELECTOR" = predicted ] && [ -z "$(ls -A "$BUNDLE/predictors" 2>/dev/null)" ]; then
  echo "== calibrate predictors ($CALIB_TOKENS tokens, rank $RANK) -> $BUNDLE/predictors" >&2
  "$FL" calibrate --model "$BUNDLE" --tokens "$CALIB_TOKENS" --rank "$RANK" --epochs 3 --ctx "$CTX" >&2
fi

# Budget for flashllm inside the cap: the cap minus the Java heap, as README says (the budget counts
# everything else, the JVM's non-heap memory included: 128 MiB reserved, ~91 MiB used here with the
# C heap trimmed as bin/flashllm does, the rest headroom for the kernel; JAVA_EXTRA=-XX:TrimNativeHeapInterval=0
# runs the untrimmed JVM and reserves 160 MiB).
BUDGET=${BUDGET:-$(( CAP_BYTES - $(to_bytes "$HEAP") ))}

run_capped() { # name, flashllm args...
  local name="$1"; shift
  local cg="$CG_ROOT/flashllm-capped-$$"
  mkdir -p "$cg"
  echo "$CAP_BYTES" > "$cg/memory.limit_in_bytes"
  sync; echo 3 > /proc/sys/vm/drop_caches
  local out rc=0 started=$SECONDS
  # A run that no longer fits the cap does not fail fast: the kernel evicts the JVM's own code and
  # re-reads it page by page (session 50: 15 minutes of it, then the OOM killer), hence the limit.
  out=$(FLASHLLM_JAVA_OPTS="-Xmx$HEAP $GC -XX:MaxDirectMemorySize=64m ${JAVA_EXTRA:-}" \
        timeout --kill-after=10 "$RUN_TIMEOUT" \
        bash -c "echo \$\$ > '$cg/cgroup.procs'; exec '$FL' \"\$@\"" _ "$@" ) || rc=$?
  local peak majflt ooms
  peak=$(cat "$cg/memory.max_usage_in_bytes")
  majflt=$(awk '$1 == "total_pgmajfault" {print $2}' "$cg/memory.stat")
  ooms=$(awk '$1 == "oom_kill" {print $2}' "$cg/memory.oom_control" 2>/dev/null)
  echo 0 > "$cg/memory.force_empty" 2>/dev/null || true
  rmdir "$cg" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    local why="exit $rc" cramped=0
    # timeout exits 124, or 137 when it had to kill; the OOM killer's kill is 137 too, told by its count.
    if [ "${ooms:-0}" -gt 0 ]; then why="killed by the OOM killer inside the $CAP cgroup"; cramped=1
    elif [ $((SECONDS - started)) -ge "$RUN_TIMEOUT" ]; then why="stopped after ${RUN_TIMEOUT}s (RUN_TIMEOUT)"; cramped=1
    fi
    echo "capped-run: the $name run failed: $why; $majflt major page faults, peak $((peak >> 20)) MiB." >&2
    if [ "$cramped" = 1 ]; then
      echo "capped-run: a run that fits the cap has a few hundred major faults; one that does not re-reads its own" >&2
      echo "capped-run: pages (a lower --memory-budget, BUDGET=..., leaves the JVM more room; docs/benchmarks.md §4)." >&2
    fi
    return 1
  fi
  echo "$name $out peak_cgroup_bytes=$peak major_faults=$majflt" >&2
  printf '%s\t%s\t%s\t%s\n' "$name" "$out" "$peak" "$majflt"
}

# FFN_IN_RAM=1: the bundle's FFN files copied to /dev/shm (their pages are charged to this shell's
# cgroup, not the capped one) and the run pointed at a copy of the bundle whose ffn/ links there; the
# resident file stays on disk under the cap. tmpfs serves a read as a copy from memory (within io_submit
# where the kernel's tmpfs takes O_DIRECT, as 6.6 and later do; buffered reads where it refuses it).
if [ "${FFN_IN_RAM:-0}" = 1 ]; then
  RAM_FFN="/dev/shm/flashllm-capped-ffn-$$"
  RAM_BUNDLE="$WORK/ffn-in-ram-$$/$(basename "$BUNDLE")"
  trap 'rm -rf "$RAM_FFN" "$(dirname "$RAM_BUNDLE")"' EXIT
  need=$(du -sb "$BUNDLE/ffn" | cut -f1); have=$(df -B1 --output=avail /dev/shm | tail -1)
  [ "$need" -lt "$have" ] || { echo "capped-run: FFN_IN_RAM needs $((need >> 20)) MiB free in /dev/shm" >&2; exit 1; }
  mkdir -p "$(dirname "$RAM_BUNDLE")"
  cp -al "$BUNDLE" "$RAM_BUNDLE"
  rm -rf "$RAM_BUNDLE/ffn"
  cp -r "$BUNDLE/ffn" "$RAM_FFN"
  ln -s "$RAM_FFN" "$RAM_BUNDLE/ffn"
  echo "== FFN files in RAM: $RAM_FFN ($((need >> 20)) MiB, outside the cap)" >&2
  BUNDLE="$RAM_BUNDLE"
fi

echo "== cap $CAP, budget $BUDGET bytes, selector $SELECTOR, window $WINDOW, threads $THREADS" >&2
RES_BUNDLE=$(run_capped bundle bench --model "$BUNDLE" --threads "$THREADS" --ctx "$CTX" \
    --prompt-tokens "$PROMPT_TOKENS" --gen-tokens "$GEN_TOKENS" --memory-budget "$BUDGET" \
    --selector "$SELECTOR" --window "$WINDOW" --json ${BENCH_EXTRA:-})
RES_DENSE=""
if [ "$DENSE" = 1 ]; then
  RES_DENSE=$(run_capped mmap-gguf bench --model "$MODEL" --threads "$THREADS" --ctx "$CTX" \
      --prompt-tokens "$PROMPT_TOKENS" --gen-tokens 8 --json) || true
fi

# The decode under the cap is bound by the flash's random reads, so the same file's IOPS, measured
# right after (fio, when installed: direct I/O at depth 128, blocks of the run's mean read size
# to the nearest 4 KiB: 8 KiB for MIN_READ=4K, ~32 KiB for the default groups), says what the run could reach.
# Not with FFN_IN_RAM=1: the run did not read the disk.
FIO_IOPS="" FIO_BS=""
LAYER_FILE=$(ls "$BUNDLE"/ffn/layer-*.bin 2>/dev/null | head -1 || true)
if [ "${FIO:-1}" = 1 ] && [ "${FFN_IN_RAM:-0}" != 1 ] && command -v fio >/dev/null && [ -n "$LAYER_FILE" ]; then
  FIO_BS=$(printf '%s' "$RES_BUNDLE" | cut -f2 | python3 -c 'import json,sys
d = json.load(sys.stdin); r = d.get("flash_reads_per_token", 0)
print(max(4096, round(d["flash_bytes_per_token"] / r / 4096) * 4096) if r else 8192)' 2>/dev/null || echo 8192)
  FIO_IOPS=$(fio --name=capped-run --filename="$LAYER_FILE" --rw=randread --bs="$FIO_BS" --direct=1 --ioengine=libaio \
      --iodepth=128 --readonly --runtime=5 --time_based --output-format=json 2>/dev/null \
      | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["read"]["iops"]))' 2>/dev/null || true)
fi

python3 - "$CAP" "$RES_BUNDLE" "$RES_DENSE" "$FIO_IOPS" "$FIO_BS" <<'PY'
import json, sys
cap, rb, rd, fio, bs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
def parse(line):
    if not line: return None
    name, js, peak, majflt = line.split("\t")
    d = json.loads(js); d["peak_cgroup_bytes"] = int(peak); d["major_faults"] = int(majflt or 0); return name, d
rows = [r for r in (parse(rb), parse(rd)) if r]
print(f"capped run, cgroup memory limit {cap}")
print(f"{'mode':<12}{'decode tok/s':>14}{'prompt tok/s':>14}{'peak cgroup MiB':>17}{'major faults':>14}")
for name, d in rows:
    print(f"{name:<12}{d['decode_tok_s']:>14.2f}{d['prompt_tok_s']:>14.2f}{d['peak_cgroup_bytes']/2**20:>17.0f}"
          f"{d['major_faults']:>14,}")
if len(rows) == 2 and rows[1][1]["decode_tok_s"] > 0:
    print(f"bundle / mmap-gguf decode ratio: {rows[0][1]['decode_tok_s']/rows[1][1]['decode_tok_s']:.1f}x")
for name, d in rows:
    extra = {k: v for k, v in d.items() if k not in ("decode_tok_s", "prompt_tok_s", "peak_cgroup_bytes", "major_faults")}
    print(name, json.dumps(extra))
if fio:
    line = f"flash: fio reads {int(fio):,} {int(bs) // 1024} KiB blocks a second on a layer file (direct, depth 128)"
    reads = rows[0][1].get("flash_reads_per_token", 0) if rows and rows[0][0] == "bundle" else 0
    if reads > 0:
        line += f"; at {reads:,.0f} reads a token the flash alone allows {int(fio) / reads:.1f} tok/s"
    print(line)
else:
    print("flash: the ceiling the flash sets not measured (fio not installed, FIO=0, or FFN_IN_RAM=1)")
PY
