#include "sim/system/tensor_parallel.h"

#include "sim/core/error.h"

namespace bpsim::system {

namespace {

using workload::LayerSpec;

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool holds_attention(const LayerSpec& l) {
  if (l.kind == "attention_core") return true;
  for (const LayerSpec& b : l.body)
    if (holds_attention(b)) return true;
  return false;
}

/// Layers that run whole on every device without changing what the model computes.
bool replicable(const std::string& kind) {
  for (const char* k : {"layernorm", "dropout", "gelu", "relu", "flatten", "softmax", "maxpool", "avgpool"})
    if (kind == k) return true;
  return false;
}

struct Sharder {
  uint32_t t;
  std::string key_path;
  TensorSharding& out;
  std::vector<std::string> column;  ///< the current attention's q/k/v or the MLP's fc1

  [[noreturn]] void refuse(const LayerSpec& l, const std::string& why) const {
    throw InputError(l.loc, key_path,
                     "tensor parallelism over " + std::to_string(t) + " devices: layer '" + l.name + "' " + why);
  }
  uint64_t split(const LayerSpec& l, uint64_t n, const char* what) const {
    if (n % t)
      refuse(l, std::string("has ") + std::to_string(n) + " " + what + ", not a multiple of " + std::to_string(t));
    return n / t;
  }
  void layer(LayerSpec& l) {
    if (l.kind == "residual" || l.kind == "sequence") {
      if (!l.shortcut.empty()) refuse(l, "has a projection shortcut, which Megatron's split does not cover");
      for (LayerSpec& b : l.body) layer(b);
    } else if (l.kind == "attention_core") {
      l.heads = split(l, l.heads, "attention heads");
      if (l.kv_heads) l.kv_heads = split(l, l.kv_heads, "key/value heads");
      for (LayerSpec& p : l.body) {  // separate q, k and v projections: column-parallel
        p.out_features /= t;         // heads·d or kv_heads·d, both split above
        column.push_back(p.name);
      }
      if (!column.empty()) out.column_parallel.push_back(join(column));
      column.clear();
    } else if (l.kind == "linear" && ends_with(l.name, ".qkv")) {
      l.out_features /= t;  // (heads + 2·kv_heads)·d, or 2·heads·d (lsh): the heads are split at the core
      out.column_parallel.push_back(l.name);
    } else if (l.kind == "linear" && ends_with(l.name, ".fc1")) {
      l.out_features = split(l, l.out_features, "MLP features");
      out.column_parallel.push_back(l.name);
    } else if (l.kind == "linear" && (ends_with(l.name, ".proj") || ends_with(l.name, ".fc2"))) {
      out.row_parallel.push_back(l.name);
    } else if (!replicable(l.kind)) {
      refuse(l, "(" + l.kind + ") is not part of Megatron's attention/MLP split");
    }
  }
  static std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ",") + n;
    return s;
  }
};

}  // namespace

TensorSharding shard_transformer_blocks(workload::NetSpec& net, uint32_t tensor, const std::string& key_path) {
  TensorSharding r;
  Sharder s{tensor, key_path, r, {}};
  for (LayerSpec& l : net.layers) {
    if (l.kind == "sequence" && holds_attention(l)) {
      s.layer(l);
      ++r.blocks;
    } else if (replicable(l.kind)) {
      r.replicated.push_back(l.name);
    } else {
      throw InputError(l.loc, key_path,
                       "tensor parallelism splits attention and transformer blocks only: layer '" + l.name + "' (" +
                           l.kind + ") outside a block would have to be split too, which is not modelled");
    }
  }
  if (!r.blocks)
    throw InputError(key_path + ": tensor parallelism needs attention or transformer blocks; network '" + net.name +
                     "' has none");
  return r;
}

}  // namespace bpsim::system
