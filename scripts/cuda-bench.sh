#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, the CUDA toolkit and Node.js: builds the native code with the
# CUDA backend, runs every native test (CPU and CUDA), then the CLI's kernels benchmark on the
# seed's shape (32 heads x 128, MHA) and on GQA 32/8 x 128 (selection per query head and per KV
# head), and torch's SDPA as the peer when python3 has torch. Logs, run directories and the
# tables go to OUT_DIR. On a GPU host without npm, build from the offline bundle
# (scripts/bundle-offline.mjs) first and set SKIP_BUILD=1.
#
# usage: scripts/cuda-bench.sh OUT_DIR [kernels options, e.g. --timeout 1]
# env:   ADAMAS_CUDA_ARCHITECTURES (90), SKIP_BUILD
set -uo pipefail
out=${1:?usage: scripts/cuda-bench.sh OUT_DIR [kernels options]}
shift
mkdir -p "$out"

if [ -z "${SKIP_BUILD:-}" ]; then
  ADAMAS_CUDA=on ADAMAS_CUDA_ARCHITECTURES="${ADAMAS_CUDA_ARCHITECTURES:-90}" npm run build > "$out/build.log" 2>&1 ||
    { grep -E -m 30 "error|Error" "$out/build.log"; exit 1; }
fi

build/adamas_native_tests 2> "$out/tests.log"
echo "native tests: exit $?"
grep -E "FAIL|native tests" "$out/tests.log"

kernels=(bin/adamas-bench kernels --device cuda --kv-lens 8192,16384,32768 --budgets 256,512,1024,2048,4096
  --methods full,quest,adamas "$@")
"${kernels[@]}" --shapes llama2-7b --out "$out/kernels-llama2" 2>> "$out/bench.log" | tee "$out/bench.md"
for gqa in query kv; do
  "${kernels[@]}" --shapes llama3-8b --gqa "$gqa" --out "$out/kernels-llama3-$gqa" 2>> "$out/bench.log" |
    tee -a "$out/bench.md"
done
if python3 -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
  python3 scripts/torch_sdpa_decode.py | tee -a "$out/bench.md"
fi
