// Output masks of dX GEMMs: the activation chain (ReLU and dropout ANDed back to the
// producing layer) and measured mask sets (workload.masks), each derived by hand.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <fstream>

#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/mask_set.h"
#include "sim/workload/spec.h"
#include "tests/cli/cli_harness.h"
#include "tests/unit/workload/graph_lookup.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

OpGraph step(const std::string& layers, const std::string& input = "[16]") {
  return build_step(
      parse_net_spec(config::parse_yaml("name: t\nbatch: 4\ninput: {shape: " + input + "}\nlayers:\n" + layers, "t")));
}

const Op& find(const OpGraph& g, const std::string& name) { return test::find_op(g, name); }

}  // namespace

TEST_CASE("mask chain: ReLU and dropout AND their masks back to the producing layer", "[workload][masks]") {
  // dropout → relu → dropout between the two layers: the gradient is zero where any of them
  // zeroes it; independent masks multiply: (1 − 0.2) · 0.5 · (1 − 0.5) = 0.2.
  OpGraph g = step(
      "  - {kind: linear, out_features: 8}\n  - {kind: dropout, p: 0.2}\n  - {kind: relu, density: 0.5}\n"
      "  - {kind: dropout, p: 0.5}\n  - {kind: linear, out_features: 4}\n");
  CHECK(find(g, "linear4.dx").out_mask.source == OutputMask::Source::relu);
  CHECK(find(g, "linear4.dx").out_mask.density == Approx(0.2));
  // Dropout alone: a random mask of density 1 − p; p = 0 is the identity and masks nothing.
  g = step("  - {kind: linear, out_features: 8}\n  - {kind: dropout, p: 0.25}\n  - {kind: linear, out_features: 4}\n");
  CHECK(find(g, "linear2.dx").out_mask.source == OutputMask::Source::random);
  CHECK(find(g, "linear2.dx").out_mask.density == Approx(0.75));
  g = step("  - {kind: linear, out_features: 8}\n  - {kind: dropout, p: 0}\n  - {kind: linear, out_features: 4}\n");
  CHECK_FALSE(find(g, "linear2.dx").out_mask.active());
  // Through a flatten (a view: same elements, same order): conv → relu 0.5 → dropout 0.2 →
  // flatten → linear: 0.5 · 0.8 = 0.4 on the linear's dX (4 × 2·4·4 = 4 × 32 outputs).
  g = step(
      "  - {kind: conv2d, out_channels: 2, kernel: 3, padding: 1}\n  - {kind: relu, density: 0.5}\n"
      "  - {kind: dropout, p: 0.2}\n  - {kind: flatten}\n  - {kind: linear, out_features: 3}\n",
      "[1, 4, 4]");
  const Op& dx = find(g, "linear4.dx");
  CHECK(dx.gemm.m == 4);
  CHECK(dx.gemm.n == 32);
  CHECK(dx.out_mask.density == Approx(0.4));
}

TEST_CASE("mask chain: a pool's output is needed when any element of its window is", "[workload][masks]") {
  // conv (2 × 4 × 4 out) → relu 0.5 → maxpool 2 → flatten → linear: each pooled output has a
  // 2×2 window of ReLU outputs; the max is 0 (and its gradient dies at the ReLU) only when all
  // four are off: 1 − 0.5⁴ = 0.9375.
  const std::string conv = "  - {kind: conv2d, out_channels: 2, kernel: 3, padding: 1}\n";
  const std::string tail = "  - {kind: flatten}\n  - {kind: linear, out_features: 3}\n";
  OpGraph g = step(conv + "  - {kind: relu, density: 0.5}\n  - {kind: maxpool, kernel: 2}\n" + tail, "[1, 4, 4]");
  CHECK(find(g, "linear4.dx").out_mask.source == OutputMask::Source::relu);
  CHECK(find(g, "linear4.dx").out_mask.density == Approx(0.9375));
  // A padded, overlapping window (3×3, stride 2, padding 1 on 4×4 → 2×2): along each axis the
  // first window holds 2 input rows (one tap in the padding), the second 3; windows of 4, 6,
  // 6 and 9 elements: (1 − 2⁻⁴ + 2·(1 − 2⁻⁶) + 1 − 2⁻⁹) / 4 = 3.904296875 / 4.
  g = step(conv + "  - {kind: relu, density: 0.5}\n  - {kind: maxpool, kernel: 3, stride: 2, padding: 1}\n" + tail,
           "[1, 4, 4]");
  CHECK(find(g, "linear4.dx").out_mask.density == Approx(0.97607421875));
  // Average pooling sends every window element its share, so it needs no ReLU: after dropout
  // 0.5 alone, 1 − 0.5⁴ = 0.9375, a random mask.
  g = step(conv + "  - {kind: dropout, p: 0.5}\n  - {kind: avgpool, kernel: 2}\n" + tail, "[1, 4, 4]");
  CHECK(find(g, "linear4.dx").out_mask.source == OutputMask::Source::random);
  CHECK(find(g, "linear4.dx").out_mask.density == Approx(0.9375));
  // Max-pooling signed values (dropout without a ReLU): the window's largest may be a
  // dropped 0 or not, whatever its neighbours' masks: the chain ends there.
  g = step(conv + "  - {kind: dropout, p: 0.5}\n  - {kind: maxpool, kernel: 2}\n" + tail, "[1, 4, 4]");
  CHECK_FALSE(find(g, "linear4.dx").out_mask.active());
}

TEST_CASE("mask chain: GELU, norms, softmax and adds end the chain", "[workload][masks]") {
  // Each passes a gradient to (almost) every input element, so the dX after it has no mask
  // even with a ReLU further up.
  for (const char* end : {"{kind: gelu}", "{kind: layernorm}", "{kind: softmax}"}) {
    INFO(end);
    const OpGraph g = step("  - {kind: linear, out_features: 8}\n  - {kind: relu, density: 0.5}\n  - " +
                           std::string(end) + "\n  - {kind: linear, out_features: 4}\n");
    CHECK_FALSE(find(g, "linear3.dx").out_mask.active());
  }
  // A residual join: the add's gradient goes to both branches (an OR the chain does not take).
  const OpGraph res = step(
      "  - {kind: linear, out_features: 16}\n  - {kind: relu, density: 0.5}\n"
      "  - {kind: residual, layers: [{kind: linear, out_features: 16}]}\n  - {kind: linear, out_features: 4}\n");
  bool any = false;
  for (const Op& o : res.ops)
    if (o.phase == Phase::backward_data && o.kind == OpKind::gemm && o.gemm.k == 4) {
      any = true;
      CHECK_FALSE(o.out_mask.active());  // the last layer's dX feeds the add's backward
    }
  CHECK(any);
}

namespace {

// linear0 (16 → 8) → relu → dropout → linear3 (8 → 4), batch 4: linear3.dx is 4×8.
const char* const kTiny =
    "  - {kind: linear, out_features: 8}\n  - {kind: relu, density: 0.5}\n  - {kind: dropout, p: 0.5}\n"
    "  - {kind: linear, out_features: 4}\n";

/// A mask set in `dir`: its manifest (`body` after `masks:`) and a 4-byte bitmap.
std::string mask_set(const test::Scratch& dir, const std::string& body,
                     const std::string& bits = std::string(4, '\xFF')) {
  std::ofstream(dir / "l3.bits", std::ios::binary) << bits;
  return dir.file("masks.yaml", "network: t\nmasks:\n" + body);
}

}  // namespace

TEST_CASE("mask set: a measured bitmap replaces the chain's density on its layer", "[workload][masks]") {
  test::Scratch dir("maskset_ok");
  // The 4×8 mask as the AND of a ReLU mask and a dropout mask (1 = kept), by hand, row by row:
  //   relu    11111111 11110000 00001111 11111111
  //   dropout 00001111 11111111 11111111 11111111
  //   AND     00001111 11110000 00001111 11111111  → bytes (bit j of row i is bit i·8 + j,
  //   least significant first) 0xF0, 0x0F, 0xF0, 0xFF; 20 of 32 outputs needed.
  const std::string path =
      mask_set(dir, "  - {layer: linear3, rows: 4, cols: 8, bitmap: l3.bits}\n", std::string("\xF0\x0F\xF0\xFF", 4));
  OpGraph g = step(kTiny);
  apply_mask_set(read_mask_set(path), g);
  const Op& dx = find(g, "linear3.dx");
  REQUIRE(dx.out_mask.source == OutputMask::Source::bitmap);
  REQUIRE(dx.out_mask.bitmap);
  CHECK(dx.out_mask.bitmap->needed_total() == 20);
  CHECK(dx.out_mask.density == Approx(20.0 / 32.0));
  CHECK_FALSE(dx.out_mask.bitmap->needed(0, 0));  // row 0 column 0: dropped
  CHECK(dx.out_mask.bitmap->needed(0, 4));
  CHECK_FALSE(dx.out_mask.bitmap->needed(1, 4));  // row 1 column 4: ReLU off
}

TEST_CASE("mask set: bad files and mismatches are input errors naming the file and layer", "[workload][masks]") {
  test::Scratch dir("maskset_bad");
  OpGraph g = step(kTiny);
  auto fails = [&](const std::string& body, const std::string& what) {
    const std::string path = mask_set(dir, body);
    INFO(body);
    CHECK_THROWS_WITH(apply_mask_set(read_mask_set(path), g), Catch::Contains("masks.yaml:") && Catch::Contains(what));
  };
  // No such layer, and a layer without a dX GEMM (the first one's input is the network's).
  fails("  - {layer: linear9, rows: 4, cols: 8, bitmap: l3.bits}\n",
        "layer 'linear9' has no dX GEMM in this step (layers with one: linear3)");
  fails("  - {layer: linear0, rows: 4, cols: 8, bitmap: l3.bits}\n", "layer 'linear0' has no dX GEMM");
  // The right number of bits in the wrong shape: 8×4 against the op's 4×8.
  fails("  - {layer: linear3, rows: 8, cols: 4, bitmap: l3.bits}\n",
        "the mask is 8×4, op 'linear3.dx' writes 4×8 outputs");
  // A bitmap of the wrong size for its rows × cols: 4×16 needs 8 bytes, the file has 4.
  fails("  - {layer: linear3, rows: 4, cols: 16, bitmap: l3.bits}\n", "layer 'linear3': ");
  fails("  - {layer: linear3, rows: 4, cols: 16, bitmap: l3.bits}\n", "needs ⌈M·N/8⌉ = 8");
  fails("  - {layer: linear3, rows: 4, cols: 8, bitmap: nothere.bits}\n", "cannot open");
  // The manifest itself: unknown and missing keys, a layer twice.
  fails("  - {layer: linear3, rows: 4, colz: 8, bitmap: l3.bits}\n", "colz");
  fails("  - {layer: linear3, rows: 4, bitmap: l3.bits}\n", "cols");
  fails(
      "  - {layer: linear3, rows: 4, cols: 8, bitmap: l3.bits}\n  - {layer: linear3, rows: 4, cols: 8, bitmap: "
      "l3.bits}\n",
      "layer 'linear3' is listed twice");
  // Masks captured on another network.
  std::ofstream(dir / "l3.bits", std::ios::binary) << std::string(4, '\xFF');
  const std::string other =
      dir.file("other.yaml", "network: resnet18\nmasks:\n  - {layer: linear3, rows: 4, cols: 8, bitmap: l3.bits}\n");
  CHECK_THROWS_WITH(apply_mask_set(read_mask_set(other), g),
                    Catch::Contains("other.yaml") && Catch::Contains("captured for network 'resnet18'"));
}
