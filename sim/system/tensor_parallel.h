#pragma once
/// Tensor parallelism (Megatron-LM, Shoeybi et al. 2019) on a network spec: each transformer
/// block's attention and MLP split over T devices, column-parallel then row-parallel
/// (docs/system.md "Parallelism"). The spec is sharded before the step is built, so every op
/// of the sharded graph (forward, backward, recompute, update) is what one device runs.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/workload/spec.h"

namespace bpsim::system {

/// What sharding did to the network.
struct TensorSharding {
  uint32_t blocks = 0;  ///< attention or transformer blocks split
  /// Per block, the layers after which an all-reduce of the block's output runs: the
  /// row-parallel linears (attention's output projection, the MLP's second linear) in the
  /// forward and recompute; the column-parallel ones (q/k/v, the MLP's first linear) in the
  /// backward, for their input gradient. Each column_parallel entry is one all-reduce: a
  /// layer name, or the comma-separated q, k and v projections whose input gradients are
  /// summed before it.
  std::vector<std::string> row_parallel, column_parallel;
  std::vector<std::string> replicated;  ///< top-level layers outside any block, run whole on every device
};

/// Splits every attention and transformer block of `net` over `tensor` devices: the q/k/v
/// projection's outputs, the attention heads (and key/value heads) and the MLP's first
/// linear's outputs divided by `tensor`; the output projection and the MLP's second linear
/// keep their full outputs (their inputs are split). Layers outside blocks stay whole
/// (replicated). Throws InputError (naming `key_path`, at the layer) when the network has no
/// block, when a block's heads, key/value heads or MLP width are not multiples of `tensor`,
/// or when a layer outside the blocks holds weights it would have to split (linear,
/// conv2d, embedding and their kinds): those are not modelled.
TensorSharding shard_transformer_blocks(workload::NetSpec& net, uint32_t tensor, const std::string& key_path);

}  // namespace bpsim::system
