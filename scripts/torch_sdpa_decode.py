#!/usr/bin/env python3
"""Peer timing for adamas-bench kernels: torch's scaled_dot_product_attention at one decode step
(batch 1, one query token, fp16 K/V of kv_len tokens), measured the same way: the L2 cache flushed
before every sample, CUDA events around the call, the median of the samples.

usage: python3 scripts/torch_sdpa_decode.py [--shape llama2 llama3] [--kv-len 8192 16384 32768]
"""
import argparse
import statistics

import torch
import torch.nn.functional as F

SHAPES = {"llama2": (32, 32, 128), "llama3": (32, 8, 128), "smollm2": (9, 3, 64)}


def time_cold(fn, flush, samples):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(samples):
        flush.zero_()  # several times the L2: the host queues fn while the GPU clears it
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) * 1e3)
    return statistics.median(times), statistics.stdev(times) / statistics.mean(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", nargs="+", default=["llama2", "llama3"], choices=sorted(SHAPES))
    p.add_argument("--kv-len", nargs="+", type=int, default=[8192, 16384, 32768])
    p.add_argument("--samples", type=int, default=300)
    args = p.parse_args()
    dev = torch.device("cuda")
    flush = torch.empty(4 * torch.cuda.get_device_properties(dev).L2_cache_size, dtype=torch.uint8, device=dev)
    print(f"\n{torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    print("| shape | kv_len | torch SDPA µs (median) | noise |\n|---|---:|---:|---:|")
    for name in args.shape:
        H, KV, D = SHAPES[name]
        for n in args.kv_len:
            q = torch.randn(1, H, 1, D, device=dev, dtype=torch.float16)
            k = torch.randn(1, KV, n, D, device=dev, dtype=torch.float16)
            v = torch.randn(1, KV, n, D, device=dev, dtype=torch.float16)
            median, noise = time_cold(lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=H != KV), flush,
                                      args.samples)
            print(f"| {name} | {n} | {median:.1f} | {100 * noise:.1f}% |")


if __name__ == "__main__":
    main()
