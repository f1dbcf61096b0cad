#pragma once
/// Composite layers written as primitives (what PyTorch's modules run, op by op).
#include <cstdint>
#include <optional>
#include <string>

#include "sim/core/binder.h"
#include "sim/core/params.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// The keys of one layer map; each kind declares and fills its own of them (spec.cpp).
struct LayerParams {
  std::string kind;
  std::optional<std::string> name;
  std::string tied;
  std::string device;  ///< a system's device for the layer's ops (docs/system.md); "": placement.default
  uint64_t out_features, out_channels, kernel, padding, groups, vocab, dim, hidden, heads, mlp_ratio;
  std::optional<uint64_t> stride;  ///< pools: absent means the kernel
  bool bias, global, causal;
  double weight_density, density, p, dropout;
  WeightFormat weight_format;  ///< linear, conv2d
  uint64_t index_bits;
  /// Layers of current networks (spec_networks.cpp): MLP width, patch size, table rows.
  uint64_t intermediate, patch, rows, positions, token_types;
  bool class_token, lookup;
  // Attention variants (attention_keys).
  AttnImpl attention;
  CausalMask causal_mask;
  std::optional<uint64_t> kv_heads;  ///< absent: as many as heads
  bool rope;
  QkvProjection qkv;
  uint64_t bucket_size, rounds;  ///< lsh attention
};

/// One attention sub-layer: projection of q, k and v (one linear, (heads + 2·kv_heads)·d
/// wide, or three), attention_core, output projection.
struct AttentionSpec {
  uint64_t hidden = 0, heads = 1, kv_heads = 0;  ///< kv_heads 0: as many as heads
  bool causal = true, bias = true, rope = false;
  double dropout = 0;  ///< on the probabilities (explicit) or inside the fused kernel
  AttnImpl impl = AttnImpl::explicit_;
  CausalMask causal_mask = CausalMask::none;
  QkvProjection qkv = QkvProjection::fused;
  uint64_t bucket_size = 64, rounds = 1;  ///< lsh: chunk length and hash rounds
};

/// Declares `attention`, `causal_mask`, `kv_heads`, `rope`, `qkv`, `bucket_size` and `rounds` on a layer kind's binder
/// (attention, transformer_block, and composites that hold an attention). `impl`, `rope` and
/// `qkv` are that kind's defaults.
void attention_keys(config::Binder<LayerParams>& s, const char* impl, bool rope, const char* qkv);

/// The attention of a layer map whose `hidden`, `heads`, `causal`, `dropout` and
/// attention_keys were read into `q`; checks them together (messages through `v`).
AttentionSpec attention_spec(const LayerParams& q, const config::Values& v);

/// Appends the attention sub-layer's primitives to `out`, named after `parent`.
void append_attention(const LayerSpec& parent, const AttentionSpec& a, std::vector<LayerSpec>& out);

/// Expands attention, transformer_block, basic_block or bottleneck (its parameters `q`, the
/// validated values `v` for messages, `l` holding kind, name and location) into a
/// `sequence` of primitives and residuals.
LayerSpec expand_block(const LayerParams& q, const config::Values& v, const LayerSpec& l);

/// The projection shortcut of a ResNet block: 1×1 conv with `stride`, then batchnorm.
std::vector<LayerSpec> projection_shortcut(const LayerSpec& residual, uint64_t channels, uint64_t stride);

}  // namespace bpsim::workload
