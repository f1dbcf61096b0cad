#include "sim/ir/ir.h"

#include <array>

namespace bpsim::workload {

namespace {
template <typename E, size_t N>
bool lookup(const std::array<const char*, N>& names, const std::string& s, E& out) {
  for (size_t i = 0; i < N; ++i)
    if (s == names[i]) {
      out = static_cast<E>(i);
      return true;
    }
  return false;
}

constexpr std::array<const char*, 5> kPhase = {"forward", "backward_data", "backward_weight", "recompute", "update"};
constexpr std::array<const char*, 11> kKind = {"gemm",      "conv",          "xnor_gemm", "elementwise",
                                               "reduction", "normalization", "softmax",   "pool",
                                               "embedding", "bitwise",       "optimizer"};
constexpr std::array<const char*, 5> kDType = {"fp32", "bf16", "fp16", "int8", "binary"};
constexpr std::array<const char*, 6> kMask = {"none", "relu", "pruned", "nm", "random", "bitmap"};
constexpr std::array<const char*, 9> kRole = {"input",           "weight",          "activation", "saved", "gradient",
                                              "weight_gradient", "optimizer_state", "workspace",  "mask"};
}  // namespace

const char* to_string(Phase p) { return kPhase[static_cast<size_t>(p)]; }
bool phase_from_string(const std::string& s, Phase& out) { return lookup(kPhase, s, out); }
const char* to_string(OpKind k) { return kKind[static_cast<size_t>(k)]; }
bool op_kind_from_string(const std::string& s, OpKind& out) { return lookup(kKind, s, out); }
const char* to_string(DType d) { return kDType[static_cast<size_t>(d)]; }
bool dtype_from_string(const std::string& s, DType& out) { return lookup(kDType, s, out); }
std::vector<config::EnumName<DType>> dtype_names(bool binary) {
  std::vector<config::EnumName<DType>> t;
  for (DType d : {DType::fp32, DType::bf16, DType::fp16, DType::int8, DType::binary})
    if (binary || d != DType::binary) t.push_back({d, to_string(d)});
  return t;
}
const char* to_string(OutputMask::Source s) { return kMask[static_cast<size_t>(s)]; }
const char* to_string(TensorRole r) { return kRole[static_cast<size_t>(r)]; }

unsigned dtype_bits(DType d) {
  switch (d) {
    case DType::fp32: return 32;
    case DType::bf16:
    case DType::fp16: return 16;
    case DType::int8: return 8;
    case DType::binary: return 1;
  }
  return 32;
}

uint64_t OpGraph::total_macs() const {
  uint64_t t = 0;
  for (const auto& op : ops) t = sum_or_throw("the workload's total MACs", {t, op.macs});
  return t;
}

uint32_t add_tensor(OpGraph& g, const std::string& name, uint64_t bytes, TensorRole role) {
  Tensor t;
  t.id = uint32_t(g.tensors.size());
  t.name = name;
  t.bytes = bytes;
  t.role = role;
  g.tensors.push_back(t);
  return t.id;
}

}  // namespace bpsim::workload
