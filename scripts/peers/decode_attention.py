#!/usr/bin/env python3
"""Decode attention of other libraries, timed the way adamas-bench times its own kernels.

Peers: torch SDPA (F.scaled_dot_product_attention, enable_gqa for GQA) and FlashInfer's batch
decode over a paged fp16 KV cache. One query token per sequence against kv_len cached tokens,
fp16 inputs. Each case prints one JSON line on stdout:

  {"peer": "sdpa", "n_heads": 32, "n_kv_heads": 8, "head_dim": 128, "kv_len": 32768, "batch": 1,
   "cold_us": [...], "hot_us": [...], "max_rel_err": 3e-4, "rule": {...}, "timed_out": false}

or, when a peer cannot run here, {"peer": ..., ..., "skipped": "<why>"}; a case never vanishes.
Cold samples: an L2-sized buffer rewritten before each sample, CUDA events around one call.
Hot samples: `--hot-count` calls back to back between two events, divided by the count.
Stopping rule (NVBench's stdrel): at least --min-samples samples and --min-time measured seconds,
then stop once the relative standard deviation is at most --max-noise, or at --timeout seconds.

Usage: python3 scripts/peers/decode_attention.py --peers sdpa,flashinfer \
         --shapes 32x32x128,32x8x128 --kv-lens 8192,32768,131072 --batch 1,8
Needs torch with CUDA; FlashInfer where importable (flashinfer-python).
"""
import argparse
import json
import math
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--peers", default="sdpa,flashinfer")
    p.add_argument("--shapes", default="32x32x128,32x8x128", help="n_heads x n_kv_heads x head_dim, comma-separated")
    p.add_argument("--kv-lens", default="8192,32768,131072")
    p.add_argument("--batch", default="1")
    p.add_argument("--min-samples", type=int, default=10)
    p.add_argument("--min-time", type=float, default=0.5)
    p.add_argument("--max-noise", type=float, default=0.005)
    p.add_argument("--timeout", type=float, default=15.0)
    p.add_argument("--hot-count", type=int, default=20)
    p.add_argument("--page-size", type=int, default=16, help="FlashInfer's KV page size")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    try:
        a.peers = [x for x in a.peers.split(",") if x]
        a.shapes = [tuple(int(v) for v in s.split("x")) for s in a.shapes.split(",") if s]
        a.kv_lens = [int(x) for x in a.kv_lens.split(",") if x]
        a.batch = [int(x) for x in a.batch.split(",") if x]
    except ValueError as e:
        p.error(f"bad list: {e}")
    for s in a.shapes:
        if len(s) != 3 or s[0] % s[1] != 0:
            p.error(f"--shapes: {'x'.join(map(str, s))} is not n_heads x n_kv_heads x head_dim with n_kv_heads | n_heads")
    unknown = set(a.peers) - {"sdpa", "flashinfer"}
    if unknown:
        p.error(f"--peers: unknown {sorted(unknown)} (known: sdpa, flashinfer)")
    return a


def emit(row):
    print(json.dumps(row), flush=True)


def collect(rule, sample):
    """sample() -> one measurement in seconds; returns (microseconds, timed_out)."""
    out, start = [], time.monotonic()
    while True:
        out.append(sample() * 1e6)
        measured = sum(out) * 1e-6
        if len(out) >= rule["min_samples"] and measured >= rule["min_time"]:
            noise = statistics.stdev(out) / statistics.mean(out) if len(out) > 1 else math.inf
            if noise <= rule["max_noise"]:
                return out, False
        if time.monotonic() - start > rule["timeout"]:
            return out, True


class Timer:
    def __init__(self, torch):
        self.torch = torch
        l2 = torch.cuda.get_device_properties(0).L2_cache_size
        self.flush = torch.empty(max(2 * l2, 1 << 20), dtype=torch.uint8, device="cuda")
        self.start = torch.cuda.Event(enable_timing=True)
        self.stop = torch.cuda.Event(enable_timing=True)

    def cold(self, fn):
        self.flush.random_(0, 255)  # rewrites every byte: nothing of the inputs stays in L2
        self.start.record()
        fn()
        self.stop.record()
        self.stop.synchronize()
        return self.start.elapsed_time(self.stop) * 1e-3

    def hot(self, fn, count):
        fn()
        self.start.record()
        for _ in range(count):
            fn()
        self.stop.record()
        self.stop.synchronize()
        return self.start.elapsed_time(self.stop) * 1e-3 / count


def reference(torch, q, k, v):
    """fp32 attention of q [B, H, D] over k, v [B, KV, n, D]."""
    B, H, D = q.shape
    KV = k.shape[1]
    qf = q.float().view(B, KV, H // KV, D)
    s = torch.einsum("bkgd,bknd->bkgn", qf, k.float()) / math.sqrt(D)
    o = torch.einsum("bkgn,bknd->bkgd", torch.softmax(s, dim=-1), v.float())
    return o.reshape(B, H, D)


def rel_err(torch, out, ref):
    return float((out.float() - ref).abs().max() / ref.abs().max())


def sdpa_case(torch, q, k, v):
    import torch.nn.functional as F

    B, H, D = q.shape
    gqa = k.shape[1] != H
    q4 = q.view(B, H, 1, D)

    def run():
        return F.scaled_dot_product_attention(q4, k, v, enable_gqa=gqa)

    return run, lambda: run().view(B, H, D)


def flashinfer_case(torch, q, k, v, page_size):
    import flashinfer

    B, H, D = q.shape
    KV, n = k.shape[1], k.shape[2]
    pages = (n + page_size - 1) // page_size
    # paged cache [B * pages, 2, page_size, KV, D] (NHD), sequence b on pages [b * pages, (b + 1) * pages)
    cache = torch.zeros(B * pages, 2, page_size, KV, D, dtype=q.dtype, device=q.device)
    for b in range(B):
        pk = torch.zeros(pages * page_size, KV, D, dtype=q.dtype, device=q.device)
        pv = torch.zeros_like(pk)
        pk[:n] = k[b].transpose(0, 1)
        pv[:n] = v[b].transpose(0, 1)
        cache[b * pages:(b + 1) * pages, 0] = pk.view(pages, page_size, KV, D)
        cache[b * pages:(b + 1) * pages, 1] = pv.view(pages, page_size, KV, D)
    indptr = torch.arange(0, B * pages + 1, pages, dtype=torch.int32, device=q.device)
    indices = torch.arange(B * pages, dtype=torch.int32, device=q.device)
    last = torch.full((B,), n - (pages - 1) * page_size, dtype=torch.int32, device=q.device)
    workspace = torch.empty(256 << 20, dtype=torch.uint8, device=q.device)
    w = flashinfer.BatchDecodeWithPagedKVCacheWrapper(workspace, "NHD")
    w.plan(indptr, indices, last, H, KV, D, page_size, data_type=q.dtype, q_data_type=q.dtype)

    def run():
        return w.run(q, cache)

    return run, run


def main():
    a = parse_args()
    try:
        import torch
    except ImportError as e:
        for peer in a.peers:
            emit({"peer": peer, "skipped": f"torch is not importable: {e}"})
        return 0
    if not torch.cuda.is_available():
        for peer in a.peers:
            emit({"peer": peer, "skipped": "torch sees no CUDA device"})
        return 0
    fi_error = None
    if "flashinfer" in a.peers:
        try:
            import flashinfer  # noqa: F401
        except Exception as e:  # an import can fail in many ways (missing JIT sources, ABI)
            fi_error = f"flashinfer is not importable: {type(e).__name__}: {e}"
    rule = {"min_samples": a.min_samples, "min_time": a.min_time, "max_noise": a.max_noise, "timeout": a.timeout,
            "hot_count": a.hot_count}
    timer = Timer(torch)
    gen = torch.Generator(device="cuda").manual_seed(a.seed)
    for H, KV, D in a.shapes:
        for n in a.kv_lens:
            for B in a.batch:
                case = {"n_heads": H, "n_kv_heads": KV, "head_dim": D, "kv_len": n, "batch": B}
                try:
                    q = torch.randn(B, H, D, generator=gen, device="cuda", dtype=torch.float16)
                    k = torch.randn(B, KV, n, D, generator=gen, device="cuda", dtype=torch.float16)
                    v = torch.randn(B, KV, n, D, generator=gen, device="cuda", dtype=torch.float16)
                    ref = reference(torch, q, k, v)
                except torch.cuda.OutOfMemoryError as e:
                    for peer in a.peers:
                        emit({"peer": peer, **case, "skipped": f"out of device memory for the inputs: {e}"})
                    continue
                for peer in a.peers:
                    row = {"peer": peer, **case}
                    if peer == "flashinfer" and fi_error:
                        emit({**row, "skipped": fi_error})
                        continue
                    try:
                        run, output = sdpa_case(torch, q, k, v) if peer == "sdpa" else flashinfer_case(torch, q, k, v, a.page_size)
                        row["max_rel_err"] = rel_err(torch, output(), ref)
                        cold, cold_out = collect(rule, lambda: timer.cold(run))
                        hot, hot_out = collect(rule, lambda: timer.hot(run, a.hot_count))
                        emit({**row, "cold_us": cold, "hot_us": hot, "timed_out": cold_out or hot_out, "rule": rule,
                              "device": torch.cuda.get_device_name(0), "torch": torch.__version__})
                    except Exception as e:
                        emit({**row, "skipped": f"{peer} failed: {type(e).__name__}: {e}"})
                    torch.cuda.empty_cache()
                del q, k, v, ref
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
