#pragma once
// Helpers for the mesh tests: specs from YAML text, and a hand-built LeNet-5 op graph
// (built by hand so the mapper tests do not depend on the workload builder).
#include <memory>
#include <string>

#include "models/mesh/mesh_params.h"
#include "sim/core/config_node.h"
#include "sim/ir/ir.h"

namespace bpsim::mesh::testing {

inline config::Values mesh_values(const std::string& yaml) {
  return config::validate(config::parse_yaml(yaml, "mesh.yaml"), *mesh_schema(), "accelerator");
}

inline MeshSpec mesh_spec(const std::string& yaml) { return parse_mesh_spec(mesh_values(yaml)); }

/// LeNet-5 (32×32 input, conv5×5 6, pool, conv5×5 16, pool, fc 120/84/10), fp32, with
/// forward, backward-data, backward-weight and update ops. `relu_density` < 1 puts a ReLU
/// mask of that density after every layer but the last.
inline std::shared_ptr<workload::OpGraph> lenet(uint64_t batch, double relu_density) {
  using namespace workload;
  auto g = std::make_shared<OpGraph>();
  g->name = "lenet5";
  g->batch = batch;
  g->dtype = DType::fp32;
  // Forward ops name their tensors (the mapper checks that layers form a chain): each
  // reads the running activation (and a layer its weight) and writes the next one.
  auto tensor = [&](const std::string& name, TensorRole role) {
    g->tensors.push_back(Tensor{uint32_t(g->tensors.size()), name, 4, role});
    return g->tensors.back().id;
  };
  uint32_t act = tensor("input", TensorRole::input);
  auto chain = [&](Op& op, bool weighted) {
    op.reads = {act};
    if (weighted) op.reads.push_back(tensor(op.layer + ".weight", TensorRole::weight));
    act = tensor(op.name + ".out", TensorRole::activation);
    op.writes = {act};
  };
  auto add = [&](const std::string& layer, const std::string& suffix, Phase ph, OpKind k) -> Op& {
    Op op;
    op.id = uint32_t(g->ops.size());
    op.name = layer + "." + suffix;
    op.layer = layer;
    op.phase = ph;
    op.kind = k;
    g->ops.push_back(op);
    return g->ops.back();
  };
  auto conv = [&](const std::string& name, uint64_t c, uint64_t hw, uint64_t k) {
    Op& op = add(name, "fwd", Phase::forward, OpKind::conv);
    op.conv = ConvShape{batch, c, hw, hw, k, 5, 5, 1, 0, 1, hw - 4, hw - 4};
    op.gemm = GemmDims{batch * (hw - 4) * (hw - 4), k, c * 25, 1};
    op.macs = op.gemm.macs();
    chain(op, true);
    return op;
  };
  auto relu = [&](const std::string& name, uint64_t elems) {
    Op& op = add(name + "_relu", "fwd", Phase::forward, OpKind::elementwise);
    op.detail = "relu";
    op.elements = elems * batch;
    chain(op, false);
    if (relu_density < 1.0) {
      op.out_mask.source = OutputMask::Source::relu;
      op.out_mask.density = relu_density;
    }
  };
  auto pool = [&](const std::string& name, uint64_t elems) {
    Op& op = add(name + "_pool", "fwd", Phase::forward, OpKind::pool);
    op.elements = elems * batch;
    chain(op, false);
  };
  auto fc = [&](const std::string& name, uint64_t k, uint64_t n) {
    Op& op = add(name, "fwd", Phase::forward, OpKind::gemm);
    op.gemm = GemmDims{batch, n, k, 1};
    op.macs = op.gemm.macs();
    chain(op, true);
  };
  conv("conv1", 1, 32, 6), relu("conv1", 4704), pool("conv1", 1176);
  conv("conv2", 6, 14, 16), relu("conv2", 1600), pool("conv2", 400);
  fc("fc1", 400, 120), relu("fc1", 120);
  fc("fc2", 120, 84), relu("fc2", 84);
  fc("fc3", 84, 10);
  // Backward in reverse: dX (except into the network input), dW; then updates.
  const std::vector<std::string> layers = {"fc3", "fc2", "fc1", "conv2", "conv1"};
  std::vector<Op> fwd(g->ops.begin(), g->ops.end());
  for (const std::string& l : layers) {
    const Op* f = nullptr;
    for (const Op& o : fwd)
      if (o.layer == l && (o.kind == OpKind::gemm || o.kind == OpKind::conv)) f = &o;
    if (l != "conv1") {
      Op& dx = add(l, "dx", Phase::backward_data, f->kind);
      dx.conv = f->conv, dx.gemm = f->gemm, dx.macs = f->macs;
    }
    Op& dw = add(l, "dw", Phase::backward_weight, f->kind);
    dw.conv = f->conv, dw.gemm = f->gemm, dw.macs = f->macs;
  }
  for (const std::string& l : layers) {
    Op& up = add(l, "update", Phase::update, OpKind::optimizer);
    up.detail = "sgd";
    up.elements = 1000;
  }
  return g;
}

}  // namespace bpsim::mesh::testing
