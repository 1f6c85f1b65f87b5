#!/usr/bin/env python3
"""The end-to-end peer: a Llama-shaped decoder in plain PyTorch, timed on the same GPU.

Random fp16 weights of a real model's shape (no file), a static fp16 KV cache, torch SDPA for
attention, RMSNorm / RoPE (rotate-half) / SwiGLU in eager ops, and the one-token decode step
captured in a CUDA graph and replayed: the usual way a fast PyTorch decoder runs. For each
context length it prints one JSON line:

  {"peer": "torch", "model": "llama2-7b", "context_len": 32768, "decode_ms": [...],
   "prefill_s": 1.34, "bytes_per_token": ..., "floor_ms": ..., "copy_gbs": ...}

decode_ms: CUDA-event time of one replayed step at that length (one sample per replay);
prefill_s: a causal prefill of context_len tokens (SDPA is_causal) when --prefill is given;
floor_ms: weights + KV cache read once at the copy bandwidth measured here (device-to-device
copy, bytes read + written).

Usage: python3 scripts/peers/llama_decode.py --model llama2-7b --context-lens 8192,32768,131072 \
         --steps 50 --prefill 32768
"""
import argparse
import json
import math
import sys

PRESETS = {
    # layers, d_model, heads, kv heads, head_dim, d_ff, vocab, rope base
    "llama2-7b": (32, 4096, 32, 32, 128, 11008, 32000, 10000.0),
    "llama3-8b": (32, 4096, 32, 8, 128, 14336, 128256, 500000.0),
    "smollm2-135m": (30, 576, 9, 3, 64, 1536, 49152, 100000.0),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="llama2-7b", choices=sorted(PRESETS))
    p.add_argument("--context-lens", default="8192,32768,131072")
    p.add_argument("--steps", type=int, default=50, help="replays timed per length")
    p.add_argument("--prefill", default="", help="context lengths whose causal prefill is timed, comma-separated")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    a.context_lens = [int(x) for x in a.context_lens.split(",") if x]
    a.prefill = [int(x) for x in a.prefill.split(",") if x]
    return a


def copy_bandwidth_gbs(torch):
    a = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    b = torch.empty_like(a)
    s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(6):
        s.record()
        b.copy_(a)
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) * 1e-3)
    t = sorted(times[1:])[len(times[1:]) // 2]
    del a, b
    return 2 * (1 << 30) / t / 1e9


class Llama:
    def __init__(self, torch, preset, capacity, seed):
        self.t = torch
        L, d, H, KV, D, ff, V, base = preset
        self.L, self.d, self.H, self.KV, self.D, self.ff, self.V = L, d, H, KV, D, ff, V
        g = torch.Generator(device="cuda").manual_seed(seed)
        f16 = torch.float16

        def w(rows, cols):
            return (torch.randn(rows, cols, generator=g, device="cuda", dtype=f16) / math.sqrt(cols))

        self.embed = w(V, d)
        self.layers = [dict(attn_norm=torch.ones(d, device="cuda", dtype=f16), wqkv=w((H + 2 * KV) * D, d),
                            wo=w(d, H * D), ffn_norm=torch.ones(d, device="cuda", dtype=f16),
                            w_gate_up=w(2 * ff, d), w_down=w(d, ff)) for _ in range(L)]
        self.out_norm = torch.ones(d, device="cuda", dtype=f16)
        self.lm_head = w(V, d)
        # what a decode step reads: every layer, the final norm and the LM head (one embedding row)
        self.weight_bytes = sum(x.numel() * 2 for x in [self.lm_head, self.out_norm]) + sum(
            t.numel() * 2 for layer in self.layers for t in layer.values())
        inv = 1.0 / (base ** (torch.arange(0, D, 2, device="cuda", dtype=torch.float32) / D))
        ang = torch.outer(torch.arange(capacity, device="cuda", dtype=torch.float32), inv)
        self.cos, self.sin = ang.cos().to(f16), ang.sin().to(f16)
        self.k = [torch.zeros(1, KV, capacity, D, device="cuda", dtype=f16) for _ in range(L)]
        self.v = [torch.zeros(1, KV, capacity, D, device="cuda", dtype=f16) for _ in range(L)]

    def rms(self, x, w):
        xf = x.float()
        return (xf * self.t.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype) * w

    def rope(self, x, pos):  # x [B, heads, T, D], pos [T]
        c = self.cos[pos][None, None]
        s = self.sin[pos][None, None]
        x1, x2 = x[..., : self.D // 2], x[..., self.D // 2:]
        return self.t.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)

    def forward(self, tokens, pos, n_ctx, causal):
        """tokens [T] at positions pos [T]; attention over cache positions [0, n_ctx)."""
        F = self.t.nn.functional
        T = tokens.shape[0]
        H, KV, D = self.H, self.KV, self.D
        x = self.embed[tokens]
        for i, ly in enumerate(self.layers):
            h = self.rms(x, ly["attn_norm"]) @ ly["wqkv"].T
            q, k, v = h.split([H * D, KV * D, KV * D], dim=-1)
            q = self.rope(q.view(T, H, D).transpose(0, 1)[None], pos)
            k = self.rope(k.view(T, KV, D).transpose(0, 1)[None], pos)
            self.k[i].index_copy_(2, pos, k)
            self.v[i].index_copy_(2, pos, v.view(T, KV, D).transpose(0, 1)[None])
            a = F.scaled_dot_product_attention(q, self.k[i][:, :, :n_ctx], self.v[i][:, :, :n_ctx],
                                               is_causal=causal, enable_gqa=KV != H)
            x = x + a[0].transpose(0, 1).reshape(T, H * D) @ ly["wo"].T
            gu = self.rms(x, ly["ffn_norm"]) @ ly["w_gate_up"].T
            gate, up = gu.split([self.ff, self.ff], dim=-1)
            x = x + (F.silu(gate) * up) @ ly["w_down"].T
        return (self.rms(x[-1:], self.out_norm) @ self.lm_head.T).argmax(-1)


def main():
    a = parse_args()
    import torch

    if not torch.cuda.is_available():
        print(json.dumps({"peer": "torch", "skipped": "torch sees no CUDA device"}))
        return 0
    torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False
    copy_gbs = copy_bandwidth_gbs(torch)
    preset = PRESETS[a.model]
    capacity = max(a.context_lens + a.prefill) + 1
    m = Llama(torch, preset, capacity, a.seed)
    dev = torch.cuda.get_device_name(0)
    for n in a.prefill:
        tokens = torch.randint(0, m.V, (n,), device="cuda")
        pos = torch.arange(n, device="cuda")
        with torch.inference_mode():
            m.forward(tokens[:256], pos[:256], 256, True)  # warm-up
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            m.forward(tokens, pos, n, True)
            e.record()
            e.synchronize()
        print(json.dumps({"peer": "torch", "model": a.model, "context_len": n, "prefill_s": s.elapsed_time(e) * 1e-3,
                          "device": dev, "torch": torch.__version__}), flush=True)
    for n in a.context_lens:
        token = torch.zeros(1, dtype=torch.long, device="cuda")
        pos = torch.full((1,), n - 1, dtype=torch.long, device="cuda")
        with torch.inference_mode():
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(2):
                    m.forward(token, pos, n, False)
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = m.forward(token, pos, n, False)
            graph.replay()
            times = []
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            for _ in range(a.steps):
                s.record()
                graph.replay()
                e.record()
                e.synchronize()
                times.append(s.elapsed_time(e))
            del graph, out
        kv_bytes = 2 * m.L * m.KV * n * m.D * 2
        bytes_per_token = m.weight_bytes + kv_bytes
        print(json.dumps({"peer": "torch", "model": a.model, "context_len": n, "decode_ms": times,
                          "bytes_per_token": bytes_per_token, "floor_ms": bytes_per_token / (copy_gbs * 1e9) * 1e3,
                          "copy_gbs": copy_gbs, "device": dev, "torch": torch.__version__}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
