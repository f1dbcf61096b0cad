// MLCommons Chakra execution-trace import (sim/trace/chakra_et.cpp): the shipped sample,
// GEMM / conv dims from attributes and from PyTorch op names, dependency order, and every
// class of bad input.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "sim/core/build_info.h"
#include "sim/core/error.h"
#include "sim/trace/chakra_et.h"
#include "tests/unit/trace/chakra_et_builder.h"

using namespace bpsim;
using workload::OpKind;
using workload::Phase;

namespace {

using namespace bpsim::test::chakra;

std::string import_error(const std::vector<pb::Node>& nodes) {
  try {
    trace::read_chakra_et(frame(nodes), "t.et");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("chakra sample: the MLP step imports with its ops, MACs, phases and dependencies", "[trace][chakra]") {
  const auto g = trace::read_chakra_et_file(std::string(BPSIM_SOURCE_DIR) + "/traces/chakra_mlp_step.et");
  // scripts/gen_chakra_sample.py writes 20 nodes, one of them METADATA (no op): 19 ops —
  // 3 MEM_LOAD + 4 MEM_STORE, 5 GEMMs (fc1, fc2 forward; fc2 dX, fc2 dW, fc1 dW) and 7 other
  // COMP nodes (relu, log_softmax, its backward, threshold_backward, 2 sums, the SGD step).
  REQUIRE(g->ops.size() == 19);
  std::map<OpKind, int> kinds;
  for (const auto& op : g->ops) ++kinds[op.kind];
  CHECK(kinds[OpKind::gemm] == 5);
  CHECK(kinds[OpKind::elementwise] == 14);
  // B = 64, D_in = 256, H = 128, D_out = 32:
  //   fc1 forward addmm [64,256]·[256,128]: 64·256·128 = 2,097,152;  fc1 dW mm [256,64]·[64,128]: the same;
  //   fc2 forward addmm [64,128]·[128,32], fc2 dX mm [64,32]·[32,128], fc2 dW mm [128,64]·[64,32]: 262,144 each.
  //   Total 2·2,097,152 + 3·262,144 = 4,980,736.
  CHECK(g->total_macs() == 4980736);
  const auto& fc1 = g->ops[3];  // nodes 0–3 are already in dependency order
  CHECK(fc1.name == "aten::addmm#3");
  CHECK((fc1.gemm.m == 64 && fc1.gemm.n == 128 && fc1.gemm.k == 256));
  CHECK(fc1.phase == Phase::forward);
  CHECK(fc1.deps == std::vector<uint32_t>{0, 1});
  // Tensors in fp32: A 64·256·4 = 65,536 B, B 256·128·4 = 131,072 B, out 64·128·4 = 32,768 B.
  CHECK(g->tensors[fc1.reads[0]].bytes == 65536);
  CHECK(g->tensors[fc1.reads[1]].bytes == 131072);
  CHECK(g->tensors[fc1.writes[0]].bytes == 32768);
  // MEM_LOAD of x: a DRAM read of tensor_size = 64·256·4 bytes.
  CHECK(g->ops[0].detail == "mem_load");
  CHECK(g->tensors[g->ops[0].reads[0]].bytes == 65536);
  CHECK(g->ops[0].writes.empty());
  // Phases from the phase attribute, and the "Optimizer" name convention for the update.
  std::map<Phase, int> phases;
  for (const auto& op : g->ops) ++phases[op.phase];
  CHECK(phases[Phase::forward] == 7);          // 3 loads, 2 addmm, relu, log_softmax (no attribute: forward)
  CHECK(phases[Phase::backward_data] == 3);    // log_softmax backward, fc2 dX, threshold_backward
  CHECK(phases[Phase::backward_weight] == 6);  // fc2 dW, fc1 dW, 2 bias sums, 2 gradient stores
  CHECK(phases[Phase::update] == 3);           // the SGD step (by its name), 2 weight stores
  // The SGD step (node 17) waits on metadata node 16, which becomes no op: its deps are
  // node 16's deps (nodes 10, 13, 14, 15), i.e. ops 10, 13, 14, 15 (node i is op i below 16).
  const auto& sgd = g->ops[16];
  CHECK(sgd.name == "Optimizer.step#SGD.step#17");
  CHECK(sgd.phase == Phase::update);
  CHECK(sgd.deps == std::vector<uint32_t>{10, 13, 14, 15});
  // num_ops = 2·(256·128 + 128·32) = 73,728 FLOPs; elements = outputs 256·128 + 128·32 = 36,864.
  CHECK(sgd.flops == 73728);
  CHECK(sgd.elements == 36864);
  CHECK(g->ops[17].deps == std::vector<uint32_t>{16});
  for (const auto& op : g->ops)
    for (uint32_t d : op.deps) CHECK(d < op.id);
}

TEST_CASE("chakra import: conv and GEMM from attributes and from aten names, ops in dependency order",
          "[trace][chakra]") {
  // Written out of order: node 7 (listed first) depends on node 5 (listed last).
  pb::Node gemm = node(7, "matmul_custom", pb::COMP_NODE, {5});
  int_attr(gemm, "gemm_m", 16);
  int_attr(gemm, "gemm_n", 8);
  int_attr(gemm, "gemm_k", 4);
  int_attr(gemm, "gemm_batch", 2);
  pb::Node conv_attr = node(9, "conv_custom", pb::COMP_NODE, {7});
  for (auto [k, v] : std::vector<std::pair<const char*, uint64_t>>{{"conv_n", 2},
                                                                   {"conv_c", 3},
                                                                   {"conv_h", 32},
                                                                   {"conv_w", 32},
                                                                   {"conv_k", 16},
                                                                   {"conv_r", 3},
                                                                   {"conv_s", 3},
                                                                   {"conv_stride", 1},
                                                                   {"conv_pad", 1}})
    int_attr(conv_attr, k, v);
  pb::Node conv = node(11, "aten::convolution", pb::COMP_NODE);
  conv.add_ctrl_deps(9);
  conv.mutable_inputs()->set_shapes("[[8, 64, 56, 56], [128, 64, 3, 3], [128], [], [], [], [], [], []]");
  // PyTorch ET values: tensors as [id, storage, offset, numel, itemsize, device], then
  // stride, padding, dilation, transposed, output_padding, groups.
  conv.mutable_inputs()->set_values(
      "[[5, 6, 0, 1605632, 4, 'cuda:0'], [7, 8, 0, 73728, 4, 'cuda:0'], None, [2, 2], [1, 1], [1, 1], False, [0, 0], "
      "1]");
  pb::Node bmm = node(12, "aten::bmm", pb::COMP_NODE, {11});
  bmm.mutable_inputs()->set_shapes("[[4, 10, 20], [4, 20, 30]]");
  pb::Node linear = node(13, "aten::linear", pb::COMP_NODE, {12});
  linear.mutable_inputs()->set_shapes("[[2, 5, 64], [32, 64], [32]]");
  const auto g = trace::read_chakra_et(frame({gemm, conv_attr, conv, bmm, linear, load(5, 100)}), "t.et");
  REQUIRE(g->ops.size() == 6);
  CHECK(g->ops[0].detail == "mem_load");  // node 5 first: node 7 waits on it
  const auto& m = g->ops[1];
  CHECK((m.kind == OpKind::gemm && m.gemm.m == 16 && m.gemm.n == 8 && m.gemm.k == 4 && m.gemm.batch == 2));
  CHECK(m.macs == 16 * 8 * 4 * 2);
  // conv_* attributes: 2×3×32×32 input, 16 filters 3×3, stride 1, pad 1 → P = Q = (32 + 2 − 3)/1 + 1 = 32;
  // im2col M = 2·32·32 = 2048, N = 16, K = 3·3·3 = 27.
  const auto& ca = g->ops[2];
  CHECK(ca.kind == OpKind::conv);
  CHECK((ca.conv.p == 32 && ca.conv.q == 32));
  CHECK((ca.gemm.m == 2048 && ca.gemm.n == 16 && ca.gemm.k == 27));
  // aten::convolution: 8×64×56×56, 128 filters 3×3, stride 2, pad 1 → P = (56 + 2 − 3)/2 + 1 = 28;
  // M = 8·28·28 = 6272, N = 128, K = 64·9 = 576; MACs 6272·128·576 = 462,422,016.
  const auto& c = g->ops[3];
  CHECK(c.kind == OpKind::conv);
  CHECK((c.conv.stride == 2 && c.conv.pad == 1 && c.conv.p == 28));
  CHECK((c.gemm.m == 6272 && c.gemm.n == 128 && c.gemm.k == 576));
  CHECK(c.macs == 462422016);
  CHECK(c.deps == std::vector<uint32_t>{2});  // ctrl_deps count as dependencies
  // bmm [4,10,20]·[4,20,30]: batch 4, M 10, K 20, N 30.
  CHECK((g->ops[4].gemm.batch == 4 && g->ops[4].gemm.m == 10 && g->ops[4].gemm.k == 20 && g->ops[4].gemm.n == 30));
  // linear(x[2,5,64], W[32,64]): M = 2·5 = 10, K = 64, N = 32.
  CHECK((g->ops[5].gemm.m == 10 && g->ops[5].gemm.k == 64 && g->ops[5].gemm.n == 32));
}

TEST_CASE("chakra import: an aten op called by another (linear, matmul) is counted once, in its caller",
          "[trace][chakra]") {
  // A PyTorch execution trace records linear → matmul → mm as three nodes, each callee with
  // a ctrl_dep on its caller. linear(x[8,16], W[4,16]): M = 8, K = 16, N = 4 → 512 MACs.
  pb::Node linear = node(1, "aten::linear", pb::COMP_NODE);
  linear.mutable_inputs()->set_shapes("[[8, 16], [4, 16], [4]]");
  pb::Node matmul = node(2, "aten::matmul", pb::COMP_NODE);
  matmul.add_ctrl_deps(1);
  matmul.mutable_inputs()->set_shapes("[[8, 16], [16, 4]]");
  pb::Node mm = node(3, "aten::mm", pb::COMP_NODE);
  mm.add_ctrl_deps(2);
  mm.mutable_inputs()->set_shapes("[[8, 16], [16, 4]]");
  // An aten::mm after a relu (not a caller) counts: [8,4]·[4,2] → 64 MACs.
  pb::Node relu = node(4, "aten::relu", pb::COMP_NODE, {3});
  pb::Node mm2 = node(5, "aten::mm", pb::COMP_NODE);
  mm2.add_ctrl_deps(4);
  mm2.mutable_inputs()->set_shapes("[[8, 4], [4, 2]]");
  const auto g = trace::read_chakra_et(frame({linear, matmul, mm, relu, mm2}), "t.et");
  REQUIRE(g->ops.size() == 5);
  CHECK(g->total_macs() == 512 + 64);
  CHECK(g->ops[0].macs == 512);
  for (int i : {1, 2}) {
    CHECK(g->ops[size_t(i)].macs == 0);
    CHECK(g->ops[size_t(i)].reads.empty());
    CHECK(g->ops[size_t(i)].writes.empty());
  }
  CHECK(g->ops[1].detail == "aten::matmul in aten::linear#1");
  CHECK(g->ops[2].detail == "aten::mm in aten::matmul#2");
  CHECK(g->ops[2].deps == std::vector<uint32_t>{1});  // still ordered after its caller
  CHECK(g->ops[4].macs == 64);
}

TEST_CASE("chakra import: every class of bad input names the file, node and field", "[trace][chakra]") {
  using Catch::Contains;
  const std::string good = frame({load(1, 64)});
  auto err = [](const std::string& bytes) {
    try {
      trace::read_chakra_et(bytes, "t.et");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  // Truncated: the last message is cut short.
  CHECK_THAT(err(good.substr(0, good.size() - 2)), Contains("t.et: node[0]: truncated file"));
  // A length varint that never ends (all continuation bits).
  CHECK_THAT(err(good + std::string(3, '\xff')), Contains("t.et: node[1]: bad message length varint"));
  // A length that fits but bytes that are not a Node (field 1 with wire type 7 is invalid).
  CHECK_THAT(err(good + std::string("\x02\x0f\x00", 3)), Contains("node[1]: cannot parse the Node message"));
  CHECK_THAT(err(""), Contains("t.et: global_metadata: empty file"));
  CHECK_THAT(err(frame({})), Contains("no nodes"));
  CHECK_THAT(import_error({node(3, "x", static_cast<pb::NodeType>(42))}),
             Contains("t.et: node[0] (id 3).type: unknown node type 42"));
  CHECK_THAT(import_error({node(3, "x", pb::INVALID_NODE)}), Contains("node[0] (id 3).type: unknown node type 0"));
  CHECK_THAT(import_error({node(3, "ar", pb::COMM_COLL_NODE)}), Contains("COMM_COLL_NODE nodes are not supported"));
  CHECK_THAT(import_error({node(4, "ld", pb::MEM_LOAD_NODE)}),
             Contains("node[0] (id 4).attr.tensor_size: missing required attribute"));
  pb::Node partial = node(5, "g", pb::COMP_NODE);
  int_attr(partial, "gemm_m", 4);
  int_attr(partial, "gemm_n", 4);
  CHECK_THAT(import_error({partial}), Contains("node[0] (id 5).attr.gemm_k: missing required attribute"));
  pb::Node huge = node(5, "g", pb::COMP_NODE);
  for (const char* k : {"gemm_m", "gemm_n", "gemm_k"}) int_attr(huge, k, uint64_t(1) << 22);  // 2^66 MACs
  CHECK_THAT(import_error({huge}),
             Contains("node[0] (id 5).attr: sizes too large: 4194304 × 4194304 × 4194304 × 1 overflows 64 bits"));
  pb::Node wrong_type = node(5, "g", pb::MEM_STORE_NODE);
  wrong_type.add_attr()->set_name("tensor_size");
  wrong_type.mutable_attr(0)->set_string_val("big");
  CHECK_THAT(import_error({wrong_type}), Contains("attr.tensor_size: expected an integer value"));
  pb::Node bad_shapes = node(6, "aten::mm", pb::COMP_NODE);
  bad_shapes.mutable_inputs()->set_shapes("[[4, 8], [9, 2]]");
  CHECK_THAT(import_error({bad_shapes}),
             Contains("node[0] (id 6).inputs.shapes: aten::mm: inner dimensions differ (8 vs 9)"));
  bad_shapes.mutable_inputs()->set_shapes("[[4, 8], [8, 2]");
  CHECK_THAT(import_error({bad_shapes}), Contains("inputs.shapes: expected a Python-literal list"));
  pb::Node not_list = node(6, "aten::relu", pb::COMP_NODE);
  not_list.mutable_outputs()->set_shapes("Tensor");
  CHECK_THAT(import_error({not_list}), Contains("node[0] (id 6).outputs.shapes: expected a Python-literal list"));
  pb::Node phase = load(7, 8);
  phase.add_attr()->set_name("phase");
  phase.mutable_attr(1)->set_string_val("sideways");
  CHECK_THAT(import_error({phase}), Contains("node[0] (id 7).attr.phase: unknown value 'sideways'"));
  CHECK_THAT(import_error({load(1, 8), node(2, "x", pb::COMP_NODE, {9})}),
             Contains("node[1] (id 2).data_deps: dangling dependency: no node has id 9"));
  CHECK_THAT(import_error({load(1, 8), load(1, 8)}), Contains("node[1] (id 1).id: duplicate node id"));
  // A cycle 1 → 2 → 3 → 1 (each waits on the next), behind an independent node 0.
  pb::Node a = load(1, 8), b = load(2, 8), c = load(3, 8);
  a.add_data_deps(2);
  b.add_ctrl_deps(3);
  c.add_data_deps(1);
  CHECK_THAT(import_error({load(0, 8), a, b, c}),
             Contains("node[1] (id 1).data_deps: dependency cycle: node ids 1 -> 2 -> 3 -> 1"));
  pb::Node self = load(4, 8);
  self.add_ctrl_deps(4);
  CHECK_THAT(import_error({self}), Contains("node[0] (id 4).ctrl_deps: the node depends on itself"));
}
