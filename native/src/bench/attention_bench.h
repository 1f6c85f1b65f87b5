// Timing of one layer's decode step for a method, on random inputs, phase by phase, through the
// layer interface the engine uses (attention/layer.h), on either backend:
//   estimate  page scores (quest) or code distances (adamas), query encoding included
//   topk      selection into position lists
//   attention exact attention over the lists (dense when kv_len <= budget)
//   total     the three back to back, as decoding runs them (the attention alone when dense)
//   full      dense attention at the same shape: the peer
//   launch    one empty kernel through the same timer (CUDA): the floor under any phase
// Each phase is sampled on its own under the stopping rule, cold and hot (bench/timer.h), and
// declares the bytes it must move (LayerAttention::bytes), so a report can show bandwidth against
// the measured copy bandwidth of the same machine. With sequences > 1 (CUDA) one step serves that
// many sequences at once, of lengths seq_lens (the kernels read them from device memory), and
// every phase's bytes are the sum over them. The GPU's SM and memory clocks are sampled while a
// case runs (bench/clocks.h).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "attention/options.h"
#include "bench/attention_step.h"
#include "bench/clocks.h"
#include "bench/sampler.h"

namespace adamas::bench {

struct AttentionBenchConfig {
  std::string backend = "auto";  // cpu, cuda, or auto (cuda when built and a device is present)
  AttentionOptions attention;    // method, budget and the method's knobs
  int n_heads = 32, n_kv_heads = 32, head_dim = 128, kv_len = 8192;
  int sequences = 1;             // sequences stepped together (CUDA: up to 64)
  std::vector<int> seq_lens;     // their lengths; empty: kv_len each
  StoppingRule rule;
  int batch = 10;                // runs per hot sample; 0: no hot samples
  bool measure_full = true;      // also time the full-attention peer
  uint32_t seed = 1;
};

struct PhaseResult {
  Samples time;      // cold samples; empty when the phase does not run (e.g. estimate of full attention)
  Samples hot;       // hot samples (per run of a batch); empty likewise, or when batch is 0
  double bytes = 0;  // global-memory bytes the phase must move
};

struct AttentionBenchResult {
  std::string backend;             // cpu or cuda
  std::string device;              // GPU name, or the CPU's
  bool sparse = false;             // kv_len > budget and the method is not full
  int batch = 0;                   // runs per hot sample
  std::vector<int> seq_lens;       // the lengths of the sequences stepped together
  PhaseResult estimate, topk, attention, total, full, launch;
  double copy_bandwidth_gbs = 0;   // device-to-device copy (cpu: memcpy), bytes read + written per second
  DeviceFacts facts;               // driver, runtime, L2 (cuda)
  ClockStats clocks;               // while the case ran (cuda, where NVML is present)
};

AttentionBenchResult bench_attention_step(const AttentionBenchConfig& config);

// The backend "auto" resolves to.
std::string default_bench_backend();

}  // namespace adamas::bench
