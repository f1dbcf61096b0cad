#pragma once
/// Stand-in for the attention helpers of #21 item 3 (wt-attn: AttentionSpec, append_attention,
/// attention_keys, attention_spec in spec_blocks.h), with their published signatures, so
/// that the blocks of current networks build before that work is merged. Dropped on merge.
#include <cstdint>
#include <vector>

#include "sim/workload/spec_blocks.h"

namespace bpsim::workload {

enum class AttnImpl { explicit_, flash, mem_efficient };

struct AttentionSpec {
  uint64_t hidden = 0, heads = 1, kv_heads = 0;  ///< kv_heads 0 = heads
  bool causal = true, bias = true, rope = false, mask_kept = false;
  double dropout = 0;
  AttnImpl impl = AttnImpl::explicit_;
};

/// Appends the QKV projection, attention_core and output projection to `out`.
void append_attention(const LayerSpec& parent, const AttentionSpec& a, std::vector<LayerSpec>& out);

}  // namespace bpsim::workload
