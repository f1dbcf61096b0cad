#include "sim/workload/attention_stub.h"

namespace bpsim::workload {

void append_attention(const LayerSpec& parent, const AttentionSpec& a, std::vector<LayerSpec>& out) {
  auto make = [&](const std::string& kind, const std::string& suffix) {
    LayerSpec l;
    l.kind = kind;
    l.name = parent.name + "." + suffix;
    l.loc = parent.loc;
    return l;
  };
  LayerSpec qkv = make("linear", "qkv");
  qkv.out_features = 3 * a.hidden;
  qkv.bias = a.bias;
  out.push_back(qkv);
  LayerSpec core = make("attention_core", "attn");
  core.heads = a.heads;
  core.causal = a.causal;
  core.p = a.dropout;
  out.push_back(core);
  LayerSpec proj = make("linear", "proj");
  proj.out_features = a.hidden;
  proj.bias = a.bias;
  out.push_back(proj);
}

}  // namespace bpsim::workload
