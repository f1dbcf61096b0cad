// SCALE-Sim topology import with batch and the backward GEMMs users write by hand.
#include <catch2/catch.hpp>

#include <sstream>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/source/load.h"
#include "sim/trace/scalesim_csv.h"

using namespace bpsim;
using workload::Phase;
using namespace bpsim::workload;

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

namespace {
trace::ScalesimOptions bf16_backward(DType d = DType::bf16) {
  trace::ScalesimOptions o;
  o.dtype = d;
  o.backward = true;
  return o;
}
}  // namespace

TEST_CASE("scalesim backward: GEMM rows get dX and dW with their deps, last layer first", "[trace][scalesim]") {
  // Forward out[M×N] = in[M×K]·W[K×N]: l1 M=64 N=32 K=16, l2 M=64 N=8 K=32.
  std::istringstream csv("Layer,M,N,K,\nl1,64,32,16,\nl2,64,8,32,\n");
  const auto g = trace::read_scalesim_csv(csv, "g.csv", bf16_backward());
  REQUIRE(g->ops.size() == 6);  // 2 forward + 2 × (dX, dW)
  const Op& dx2 = g->ops[2];
  const Op& dw2 = g->ops[3];
  const Op& dx1 = g->ops[4];
  const Op& dw1 = g->ops[5];
  // l2's dX = dY[M×N]·Wᵀ[N×K] = 64×8·8×32 → m 64, n 32, k 8; 64·32·8 = 16 384 MACs.
  CHECK(dx2.name == "l2.dx");
  CHECK(dx2.phase == Phase::backward_data);
  CHECK(dx2.kind == OpKind::gemm);
  CHECK((dx2.gemm.m == 64 && dx2.gemm.n == 32 && dx2.gemm.k == 8));
  CHECK(dx2.macs == 16384);
  // l2's dW = inᵀ[K×M]·dY[M×N] = 32×64·64×8 → m 32, n 8, k 64; 16 384 MACs.
  CHECK(dw2.name == "l2.dw");
  CHECK(dw2.phase == Phase::backward_weight);
  CHECK((dw2.gemm.m == 32 && dw2.gemm.n == 8 && dw2.gemm.k == 64));
  // l1: dX 64×32·32×16 → m 64, n 16, k 32; dW 16×64·64×32 → m 16, n 32, k 64.
  CHECK((dx1.gemm.m == 64 && dx1.gemm.n == 16 && dx1.gemm.k == 32));
  CHECK((dw1.gemm.m == 16 && dw1.gemm.n == 32 && dw1.gemm.k == 64));
  // Each backward op needs its forward op; the earlier layer's also the gradient from dX before.
  CHECK(dx2.deps == std::vector<uint32_t>{1});
  CHECK(dx1.deps == std::vector<uint32_t>{0, 2});
  CHECK(dw1.deps == std::vector<uint32_t>{0, 2});
  // Operands: dW reads the forward input; bf16 → 2 B per element; dW writes 16·32·2 = 1 024 B.
  CHECK(dw1.reads[0] == g->ops[0].reads[0]);
  CHECK(g->tensors.at(dw1.writes[0]).bytes == 1024);
  CHECK(g->tensors.at(dw1.writes[0]).role == TensorRole::weight_gradient);
  CHECK(g->tensors.at(dx1.writes[0]).bytes == 64 * 16 * 2);
  // Without the option, forward only.
  std::istringstream again("Layer,M,N,K,\nl1,64,32,16,\n");
  CHECK(trace::read_scalesim_csv(again, "g.csv")->ops.size() == 1);
}

TEST_CASE("scalesim backward: a conv row uses its im2col dims", "[trace][scalesim]") {
  // 8×8 input, 3×3 filter, 4 channels, 16 filters, stride 1: output ⌈(8−3+1)/1⌉ = 6 →
  // M = 36, K = 3·3·4 = 36, N = 16. dX = 36×16·16×36 → m 36, n 36, k 16 (the im2col
  // gradient); dW = 36×36·36×16 → m 36, n 16, k 36. Each 36·36·16 = 20 736 MACs.
  std::istringstream csv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "c1,8,8,3,3,4,16,1,\n");
  const auto g = trace::read_scalesim_csv(csv, "c.csv", bf16_backward(DType::int8));
  REQUIRE(g->ops.size() == 3);
  CHECK(g->ops[0].kind == OpKind::conv);
  CHECK((g->ops[1].gemm.m == 36 && g->ops[1].gemm.n == 36 && g->ops[1].gemm.k == 16));
  CHECK((g->ops[2].gemm.m == 36 && g->ops[2].gemm.n == 16 && g->ops[2].gemm.k == 36));
  CHECK(g->ops[1].macs == 20736);
  CHECK(g->ops[2].macs == 20736);
  CHECK(g->ops[1].detail == "scalesim_conv.dx");
}
