#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, the CUDA toolkit (with cuBLAS, for the model engine) and Node.js:
# builds the native code with the CUDA backend, runs every native test (CPU and CUDA), then the
# CLI's kernels benchmark on the seed's shape (32 heads x 128, MHA) and on GQA 32/8 x 128
# (selection per query head and per KV head) with torch SDPA and FlashInfer timed at the same
# cases in the same runs (--peers: skip rows where python3 lacks torch or FlashInfer), and the
# end-to-end decode of synthetic:llama2-7b with the PyTorch decoder beside it; with AGREE=1, the
# default model's passkey (2K and 4K, 5 depths, 3 trials) and perplexity on both backends, the GPU
# with fp16 and with f32 weights, and the GPU replaying the CPU's selections, compared by `agree`
# (the CPU side takes the longest: minutes per method on a few cores). Logs, run
# directories and the tables go to OUT_DIR. On a GPU host without npm, build from the offline
# bundle (scripts/bundle-offline.mjs) first and set SKIP_BUILD=1.
#
# usage: scripts/cuda-bench.sh OUT_DIR [kernels options, e.g. --timeout 1]
# env:   ADAMAS_CUDA_ARCHITECTURES (90), SKIP_BUILD, SKIP_E2E, AGREE
set -uo pipefail
out=${1:?usage: scripts/cuda-bench.sh OUT_DIR [kernels options]}
shift
mkdir -p "$out"

if [ -z "${SKIP_BUILD:-}" ]; then
  ADAMAS_CUDA=on ADAMAS_CUDA_ARCHITECTURES="${ADAMAS_CUDA_ARCHITECTURES:-90}" npm run build > "$out/build.log" 2>&1 ||
    { grep -E -m 30 "error|Error" "$out/build.log"; exit 1; }
fi
bin/adamas-bench doctor | tee "$out/doctor.txt"

build/adamas_native_tests 2> "$out/tests.log"
echo "native tests: exit $?"
grep -E "FAIL|native tests" "$out/tests.log"
bin/adamas-bench selftest --device cuda | tee "$out/selftest.txt"

kernels=(bin/adamas-bench kernels --device cuda --kv-lens 8192,16384,32768 --budgets 256,512,1024,2048,4096
  --methods full,quest,adamas --peers sdpa,flashinfer "$@")
"${kernels[@]}" --shapes llama2-7b --out "$out/kernels-llama2" 2>> "$out/bench.log" | tee "$out/bench.md"
for gqa in query kv; do
  "${kernels[@]}" --shapes llama3-8b --gqa "$gqa" --out "$out/kernels-llama3-$gqa" 2>> "$out/bench.log" |
    tee -a "$out/bench.md"
done

if [ -z "${SKIP_E2E:-}" ]; then
  bin/adamas-bench e2e --device cuda --model synthetic:llama2-7b --context-lens 8192,32768 --methods full,adamas --budget 256 \
    --peers torch --out "$out/e2e-llama2" 2>> "$out/bench.log" | tee -a "$out/bench.md"
fi

if [ -n "${AGREE:-}" ]; then
  plan=(--budget 64 --lengths 2048,4096 --depths 0,25,50,75,100 --trials 3 --methods full,streaming,quest,adamas --record-logits)
  ppl=(ppl --protocol prefix --lengths 4096 --budget 64 --methods full,streaming,quest,adamas)
  bin/adamas-bench passkey --device cpu "${plan[@]}" --record-selection --out "$out/passkey-cpu" 2>> "$out/bench.log"
  bin/adamas-bench "${ppl[@]}" --device cpu --out "$out/ppl-cpu" 2>> "$out/bench.log"
  # the GPU with the weights the tasks use (f16), then with the CPU's weights exactly (f32)
  for w in f16 f32; do
    bin/adamas-bench passkey --device cuda --weights "$w" "${plan[@]}" --out "$out/passkey-cuda-$w" 2>> "$out/bench.log"
    bin/adamas-bench "${ppl[@]}" --device cuda --weights "$w" --out "$out/ppl-cuda-$w" 2>> "$out/bench.log"
    # the GPU attending over the CPU's recorded selections: logits step by step
    bin/adamas-bench passkey --device cuda --weights "$w" "${plan[@]}" --replay-selection "$out/passkey-cpu" \
      --out "$out/passkey-replay-$w" 2>> "$out/bench.log"
    bin/adamas-bench agree "$out/passkey-cpu" "$out/passkey-cuda-$w" | tee -a "$out/bench.md"
    bin/adamas-bench agree "$out/ppl-cpu" "$out/ppl-cuda-$w" | tee -a "$out/bench.md"
    bin/adamas-bench agree "$out/passkey-cpu" "$out/passkey-replay-$w" | tee -a "$out/bench.md"
  done
fi
