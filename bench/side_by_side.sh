#!/usr/bin/env bash
# `cgap bench` beside HF transformers (bench/hf_e2e_bench.py) on the same synthetic BF16 checkpoint, the two
# alternated round by round so that both see the same moment of a noisy machine; prints each round and the
# medians with their ratio. The HF side runs in the venv the fixture scripts use (.venv at the repository root).
#
#   bench/side_by_side.sh [--model llama-3.2-1b|gemma-2-2b] [--rounds 3] [--isa native|avx2] [--threads 2]
#                         [--prefill 128] [--decode 8] [--runs 3] [--weights mapped|memory]
#
# --weights memory runs cgap with -Dcgap.weights=memory (the checkpoint read into anonymous memory), for VMs that
# page out idle page cache between rounds (bench/RESULTS.md); HF always works from its own fp32 copy.
#
# --isa avx2 holds both sides to AVX2 on an AVX-512 machine: cgap with -XX:UseAVX=2, torch with
# ATEN_CPU_CAPABILITY=avx2, MKL_ENABLE_INSTRUCTIONS=AVX2 and ONEDNN_MAX_CPU_ISA=AVX2.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model=llama-3.2-1b rounds=3 isa=native threads=2 prefill=128 decode=8 runs=3 weights=mapped
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "side_by_side.sh: $1 needs a value" >&2; exit 2; }
  case "$1" in
    --model) model="$2" ;; --rounds) rounds="$2" ;; --isa) isa="$2" ;; --threads) threads="$2" ;;
    --prefill) prefill="$2" ;; --decode) decode="$2" ;; --runs) runs="$2" ;; --weights) weights="$2" ;;
    *) echo "side_by_side.sh: unknown option $1 (the options are in the header of $0)" >&2; exit 2 ;;
  esac
  shift 2
done
case "$isa" in
  native) cgap_opts="" hf_env=() ;;
  avx2) cgap_opts="-XX:UseAVX=2" hf_env=(ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2) ;;
  *) echo "side_by_side.sh: --isa is native or avx2, got $isa" >&2; exit 2 ;;
esac
case "$weights" in
  mapped|memory) ;;
  *) echo "side_by_side.sh: --weights is mapped or memory, got $weights" >&2; exit 2 ;;
esac
python="$here/.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "side_by_side.sh: no $python for the HF side; make it with" >&2
  echo "  python3 -m venv .venv && .venv/bin/pip install torch==2.13.0+cpu transformers==5.18.0 safetensors numpy" >&2
  exit 1
fi

results="$(mktemp)" log="$(mktemp)" slow_rounds=""
trap 'rm -f "$results" "$log"' EXIT
# Runs a side's command with its stderr (progress, warnings) in $log, shown only when the command fails.
quiet() { "$@" 2>"$log" || { cat "$log" >&2; echo "side_by_side.sh: failed: $*" >&2; exit 1; }; }
field() { "$python" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
for round in $(seq 1 "$rounds"); do
  # cgap first: in round 1 it writes the synthetic checkpoint that HF then reads.
  cgap_json="$(CGAP_JAVA_OPTS="$cgap_opts -Dcgap.threads=$threads -Dcgap.weights=$weights" quiet "$here/cgap" bench --synthetic "$model" \
      --prefill "$prefill" --decode "$decode" --runs "$runs" --json | tail -1)"
  dir="$(field "$cgap_json" model)"
  # cgap's own check (a plain read of its weights under a quarter of the probe buffer's bandwidth): then
  # cgap waited on the checkpoint's pages, and the round says nothing about it. On some VMs page-cache pages turn
  # slow (bench/RESULTS.md, the page-cache trap); cgap's stderr, which would say so, is hidden here.
  if [ "$(field "$cgap_json" weights_read_slowly)" = True ]; then
    slow_rounds="$slow_rounds $round"
    echo "side_by_side.sh: round $round: cgap read the weights at $(field "$cgap_json" bandwidth_gbs) GB/s," \
         "under a quarter of the probe buffer's $(field "$cgap_json" probe_bandwidth_gbs) GB/s" >&2
  fi
  hf_json="$(quiet env ${hf_env[@]+"${hf_env[@]}"} "$python" "$here/bench/hf_e2e_bench.py" "$dir" --threads "$threads" \
      --prefill "$prefill" --decode "$decode" --runs "$runs" | tail -1)"
  row="$(field "$cgap_json" prefill_tokens_per_s) $(field "$hf_json" prefill_tokens_per_s)"
  row="$row $(field "$cgap_json" decode_tokens_per_s) $(field "$hf_json" decode_tokens_per_s)"
  echo "$row" >> "$results"
  "$python" -c 'import sys; c, h, cd, hd = map(float, sys.argv[3:])
print(f"round {sys.argv[1]} ({sys.argv[2]} UTC): prefill cgap {c:.1f} HF {h:.1f} (x{c / h:.2f}), decode cgap {cd:.2f} HF {hd:.2f} (x{cd / hd:.2f})")' \
      "$round" "$(date -u +%H:%M)" $row
done
"$python" - "$results" "$model" "$isa" "$threads" <<'EOF'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1]) if line.strip()]
med = [statistics.median(column) for column in zip(*rows)]
print(f"{sys.argv[2]}, {sys.argv[3]}, {sys.argv[4]} threads, medians of {len(rows)} rounds (tokens/s):")
print(f"  prefill  cgap {med[0]:.1f}  HF {med[1]:.1f}  cgap/HF {med[0] / med[1]:.2f}")
print(f"  decode   cgap {med[2]:.2f}  HF {med[3]:.2f}  cgap/HF {med[2] / med[3]:.2f}")
EOF
if [ -n "$slow_rounds" ]; then
  echo "side_by_side.sh: warning: in round(s)$slow_rounds the checkpoint's pages read slowly, so cgap's figures there" \
       "measure the page cache, not cgap (HF runs from its own fp32 copy). Drop the caches (as root: sync; echo 3 >" \
       "/proc/sys/vm/drop_caches), read the checkpoint once (cat $dir/*.safetensors > /dev/null) and run again," \
       "or run cgap with its weights in memory (--weights memory)." >&2
fi
