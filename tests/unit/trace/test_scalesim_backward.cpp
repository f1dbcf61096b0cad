// SCALE-Sim topology import with batch and the backward GEMMs users write by hand.
#include <catch2/catch.hpp>

#include <sstream>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/trace/scalesim_csv.h"
#include "sim/workload/load.h"

using namespace bpsim;
using workload::Phase;

TEST_CASE("scalesim import: batch scales M, backward adds dX and dW per layer in reverse", "[trace][scalesim]") {
  std::istringstream csv("Layer, M, N, K,\nfc1,64,128,256,\nfc2,64,10,128,\n");
  trace::ScalesimOptions opt;
  opt.batch = 4;
  opt.backward = true;
  opt.dtype = workload::DType::bf16;
  const auto g = trace::read_scalesim_csv(csv, "t.csv", opt);
  REQUIRE(g->ops.size() == 6);  // 2 forward + 2 × (dX, dW)
  // Forward fc1: M = 64 · 4 = 256, N = 128, K = 256.
  CHECK(g->ops[0].gemm.m == 256);
  CHECK(g->ops[0].gemm.n == 128);
  CHECK(g->ops[0].gemm.k == 256);
  // Backward starts at the last layer, fc2 (M = 256, N = 10, K = 128):
  //   dX = dY[M×N]·Wᵀ[N×K] → m = 256, n = 128, k = 10;  dW = Xᵀ[K×M]·dY[M×N] → m = 128, n = 10, k = 256.
  const workload::Op& dx2 = g->ops[2];
  const workload::Op& dw2 = g->ops[3];
  CHECK(dx2.name == "fc2.dx");
  CHECK(dx2.phase == Phase::backward_data);
  CHECK((dx2.gemm.m == 256 && dx2.gemm.n == 128 && dx2.gemm.k == 10));
  CHECK(dw2.phase == Phase::backward_weight);
  CHECK((dw2.gemm.m == 128 && dw2.gemm.n == 10 && dw2.gemm.k == 256));
  CHECK(g->ops[4].name == "fc1.dx");
  CHECK(g->ops[5].name == "fc1.dw");
  // Each of dX and dW has the forward's MACs: M·N·K.
  for (int l = 0; l < 2; ++l)
    for (int b : {2, 3}) CHECK(g->ops[size_t(b + 2 * l)].macs == g->ops[size_t(1 - l)].macs);
  // Gradient tensors of their own, bf16 = 2 bytes: fc2's dY is 256 × 10 × 2 = 5120 B.
  CHECK(g->tensors[dx2.reads[0]].bytes == 5120);
  CHECK(g->tensors[dx2.reads[0]].role == workload::TensorRole::gradient);
  CHECK(g->tensors[dw2.writes[0]].role == workload::TensorRole::weight_gradient);
  CHECK(g->tensors[dw2.writes[0]].bytes == 128 * 10 * 2);
}

TEST_CASE("scalesim import: conv rows with batch, and the workload section's keys", "[trace][scalesim]") {
  // Conv1 224×224, 7×7, 3 channels, 64 filters, stride 2: output ⌈(224 − 7 + 2)/2⌉ = 110,
  // M = 110² = 12100 per sample → 2 samples 24200; K = 7·7·3 = 147; N = 64.
  std::istringstream csv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "Conv1,224,224,7,7,3,64,2,\n");
  trace::ScalesimOptions opt;
  opt.batch = 2;
  const auto g = trace::read_scalesim_csv(csv, "c.csv", opt);
  REQUIRE(g->ops.size() == 1);
  CHECK(g->ops[0].gemm.m == 24200);
  CHECK(g->ops[0].conv.n == 2);
  // An unknown key next to `scalesim:` is bad input naming the key path.
  const config::Node bad = config::parse_yaml("workload: {scalesim: x.csv, backwards: true}\n", "w.yaml");
  CHECK_THROWS_WITH(workload::load_workload(*bad.find("workload"), "workload", 1),
                    Catch::Contains("workload.backwards") && Catch::Contains("did you mean 'backward'"));
}
