// `cost: accelerator`: the recompute policies price ops with the target model's estimate.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include "sim/core/config_node.h"
#include "sim/source/load.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;

namespace {
size_t recompute_ops(const workload::OpGraph& g) {
  size_t n = 0;
  for (const workload::Op& o : g.ops) n += o.phase == workload::Phase::recompute;
  return n;
}
}  // namespace

TEST_CASE("accelerator cost: the model's estimate decides what threshold recomputes", "[policies][cost]") {
  const config::Node root = config::parse_yaml(
      "workload:\n  spec: " + std::string(BPSIM_SOURCE_DIR) +
          "/configs/workloads/mlp.yaml\n  policy: {kind: threshold, threshold: 1.0, cost: accelerator}\n",
      "w.yaml");
  const config::Node& w = *root.find("workload");
  // An op that costs nothing to recompute is never worth storing (cost/byte 0 ≤ 1); one that
  // costs 10¹² cycles always is. The same spec and threshold, only the estimate differs.
  const auto cheap =
      workload::load_workload(w, "workload", 1, [](const workload::OpGraph&, const workload::Op&) { return 0.0; });
  const auto dear =
      workload::load_workload(w, "workload", 1, [](const workload::OpGraph&, const workload::Op&) { return 1e12; });
  CHECK(recompute_ops(*cheap) > 0);
  CHECK(recompute_ops(*dear) == 0);
  CHECK(cheap->memory.saved_after_forward_bytes < dear->memory.saved_after_forward_bytes);
  // Without an estimate (a model that gives none) it is bad input at the key.
  CHECK_THROWS_WITH(workload::load_workload(w, "workload", 1),
                    Catch::Contains("workload.policy.cost") && Catch::Contains("no per-op cost estimate"));
}

TEST_CASE("accelerator cost: the systolic model gives one, the mesh does not", "[policies][cost][cli]") {
  test::Scratch s("acc_cost");
  const std::string src = BPSIM_SOURCE_DIR;
  // The whole policy is set: the mesh example's checkpoint_sequential keeps `segments`,
  // which threshold does not take.
  const std::string sets = " --set 'workload.policy={kind: threshold, threshold: 1, cost: accelerator}' --quiet --out ";
  test::CliResult r = test::run_bpsim("run " + src + "/configs/examples/mlp_train_systolic.yaml" + sets + (s / "sys"));
  INFO(r.err);
  CHECK(r.code == 0);
  r = test::run_bpsim("run " + src + "/configs/examples/mlp_train_mesh.yaml" + sets + (s / "mesh"));
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("workload.policy.cost") && Catch::Contains("flops or roofline"));
}
