#pragma once
// Helpers for the pim tests: the DDR4-2400 preset, specs from YAML text, hand-built binary
// MLP op graphs (by hand, so hand-derived command counts do not depend on the workload builder).
#include <memory>
#include <string>
#include "sim/core/build_info.h"

#include "models/pim/pim_spec.h"
#include "sim/core/config_node.h"
#include "sim/ir/ir.h"

namespace bpsim::pim::testing {

inline memory::DdrSpec ddr4_2400() {
  const config::Node root = config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/memory/ddr4_2400.yaml");
  return memory::ddr_spec_from(config::validate(*root.find("memory"), *memory::ddr_schema(), "memory"));
}

inline config::Values pim_values(const std::string& yaml) {
  return config::validate(config::parse_yaml(yaml, "pim.yaml"), *pim_schema(), "accelerator");
}

inline PimSpec pim_spec(const std::string& yaml = "{}") { return parse_pim_spec(pim_values(yaml), ddr4_2400()); }

/// A binary MLP step: per layer forward xnor_gemm, backward-data (not for the first layer),
/// backward-weight and a latent-weight update; batch `m`, widths `dims` (input first).
inline std::shared_ptr<workload::OpGraph> binary_mlp(uint64_t m, const std::vector<uint64_t>& dims) {
  using namespace workload;
  auto g = std::make_shared<OpGraph>();
  g->name = "binary_mlp";
  g->batch = m;
  g->dtype = DType::binary;
  auto add = [&](const std::string& name, Phase ph, OpKind k, GemmDims d) -> Op& {
    Op op;
    op.id = uint32_t(g->ops.size());
    op.name = name;
    op.layer = name.substr(0, name.find('.'));
    op.phase = ph;
    op.kind = k;
    op.dtype = DType::binary;
    op.gemm = d;
    op.macs = d.macs();
    g->ops.push_back(op);
    return g->ops.back();
  };
  const size_t L = dims.size() - 1;
  for (size_t l = 0; l < L; ++l)
    add("fc" + std::to_string(l) + ".fwd", Phase::forward, OpKind::xnor_gemm, {m, dims[l + 1], dims[l], 1});
  for (size_t l = L; l-- > 0;) {
    if (l > 0)
      add("fc" + std::to_string(l) + ".dx", Phase::backward_data, OpKind::xnor_gemm, {m, dims[l], dims[l + 1], 1});
    add("fc" + std::to_string(l) + ".dw", Phase::backward_weight, OpKind::xnor_gemm, {dims[l], dims[l + 1], m, 1});
  }
  for (size_t l = 0; l < L; ++l) {
    Op& u = add("fc" + std::to_string(l) + ".update", Phase::update, OpKind::optimizer, {});
    u.detail = "sgd";
    u.elements = dims[l] * dims[l + 1];
  }
  return g;
}

}  // namespace bpsim::pim::testing
