// `sequential` groups: structure only (a nested spec builds the op graph of its flat twin),
// the module tree they make, and checkpoint / checkpoint_sequential applied at a level of
// it as torch.utils.checkpoint does. Segment boundaries below are derived by hand from
// PyTorch's checkpoint_sequential: segment size ⌊modules/segments⌋, the first segments−1
// runs checkpointed, the rest (the last part) run normally.
#include <catch2/catch.hpp>

#include <sstream>

#include "sim/core/build_info.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"
#include "tests/unit/workload/nested_yaml.h"
#include "tests/unit/workload/policy_yaml.h"
#include "tests/unit/workload/torch_measured.h"

using namespace bpsim;
using namespace bpsim::workload;

namespace {

NetSpec spec(const std::string& yaml) { return parse_net_spec(config::parse_yaml(yaml, "net.yaml")); }

using test::kNestedSpec;

// The same layers with the names the nested spec gives them, without groups.
const char* const kFlatTwin = R"(name: nested
batch: 4
input: {shape: [8]}
layers:
  - {kind: linear, name: fc0, out_features: 8}
  - {kind: relu, name: block.act}
  - {kind: linear, name: block.inner.0, out_features: 8}
  - {kind: linear, name: block.inner.1, out_features: 8}
  - {kind: relu, name: block.2}
  - {kind: relu, name: act}
  - {kind: linear, name: head.0, out_features: 4}
  - {kind: linear, name: out, out_features: 2}
)";

/// Everything of a step that the hardware models read, op by op and tensor by tensor;
/// names (op, layer, tensor) only when `names`.
std::string signature(const OpGraph& g, bool names) {
  std::ostringstream s;
  s << int(g.dtype) << " " << g.batch << " " << g.memory.policy << " " << g.memory.saved_after_forward_bytes << " "
    << g.memory.peak_bytes << "\n";
  for (const Op& o : g.ops) {
    s << o.id << " " << int(o.phase) << " " << int(o.kind) << " " << o.detail << " " << o.macs << " " << o.flops << " "
      << o.elements << " " << o.gemm.m << "x" << o.gemm.n << "x" << o.gemm.k << " r";
    for (uint32_t t : o.reads) s << " " << t;
    s << " w";
    for (uint32_t t : o.writes) s << " " << t;
    s << " d";
    for (uint32_t d : o.deps) s << " " << d;
    if (names) s << " " << o.name << " " << o.layer;
    s << "\n";
  }
  for (const Tensor& t : g.tensors)
    s << t.id << " " << t.bytes << " " << int(t.role) << (names ? " " + t.name : "") << "\n";
  return s.str();
}

/// The segment id of each top-level layer under `policy` (-1: stored).
std::vector<int> layer_segments(const NetSpec& net, const std::string& policy) {
  const NetPlan plan = plan_network(net);
  const std::vector<int> node_seg = test::policy(policy)->plan(net, plan);
  std::vector<int> seg(net.layers.size(), -2);
  for (size_t i = 0; i < plan.nodes.size(); ++i) seg[plan.nodes[i].top] = node_seg[i];
  return seg;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("nested: sequential groups flatten into the layers, named as named_modules() writes them", "[nested]") {
  const NetSpec net = spec(kNestedSpec);
  std::vector<std::string> names;
  for (const LayerSpec& l : net.layers) names.push_back(l.name);
  CHECK(names == std::vector<std::string>{"fc0", "block.act", "block.inner.0", "block.inner.1", "block.2", "act",
                                          "head.0", "out"});
  REQUIRE(net.modules.size() == 5);
  CHECK(net.modules[1].name == "block");
  CHECK(net.modules[1].group);
  CHECK((net.modules[1].first == 1 && net.modules[1].end == 5));
  REQUIRE(net.modules[1].children.size() == 3);
  CHECK(net.modules[1].children[1].name == "block.inner");
  CHECK((net.modules[1].children[1].first == 2 && net.modules[1].children[1].end == 4));
  CHECK(net.modules[1].children[1].children.size() == 2);
  CHECK((net.modules[4].first == 7 && net.modules[4].end == 8));
  // Any character but '.' names a group; its layers' names follow it as they are.
  const NetSpec odd = spec(
      "name: t\nbatch: 1\ninput: {shape: [4]}\nlayers:\n"
      "  - {kind: sequential, name: 'g#1', layers: [{kind: relu}, {kind: relu, name: r}]}\n");
  CHECK((odd.layers[0].name == "g#1.0" && odd.layers[1].name == "g#1.r"));
}

TEST_CASE("nested: a nested spec and its flat twin build the same step, policies split them differently", "[nested]") {
  const NetSpec nested = spec(kNestedSpec), flat = spec(kFlatTwin);
  CHECK(signature(build_step(nested), true) == signature(build_step(flat), true));
  // full_recompute does not look at the tree either.
  const auto full = test::policy("{kind: full_recompute}");
  CHECK(signature(build_step(nested, *full), true) == signature(build_step(flat, *full), true));
  // checkpoint_sequential does: 5 modules vs 8 layers (the segments below).
  const auto two = test::policy("{kind: checkpoint_sequential, segments: 2}");
  CHECK(signature(build_step(nested, *two), true) != signature(build_step(flat, *two), true));
}

TEST_CASE("nested: checkpoint_sequential and checkpoint split the chosen level as PyTorch", "[nested]") {
  const NetSpec net = spec(kNestedSpec), flat = spec(kFlatTwin);
  using V = std::vector<int>;
  // Level 0, 5 modules. segments 2: size ⌊5/2⌋ = 2, [fc0, block] checkpointed (layers 0–4).
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 2}") == V{0, 0, 0, 0, 0, -1, -1, -1});
  // The flat twin has 8 modules: size 4, layers 0–3.
  CHECK(layer_segments(flat, "{kind: checkpoint_sequential, segments: 2}") == V{0, 0, 0, 0, -1, -1, -1, -1});
  // segments 3: size 1, fc0 and block checkpointed, [act, head, out] run normally.
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 3}") == V{0, 1, 1, 1, 1, -1, -1, -1});
  // segments 5: size 1, the first four modules checkpointed, out runs normally.
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 5}") == V{0, 1, 1, 1, 1, 2, 3, -1});
  // segments 1: nothing checkpointed (PyTorch runs the whole list normally).
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 1}") == V(8, -1));
  // checkpoint: every top-level module its own segment; level: 0 is the default.
  CHECK(layer_segments(net, "{kind: checkpoint}") == V{0, 1, 1, 1, 1, 2, 3, 4});
  CHECK(layer_segments(net, "{kind: checkpoint, level: 0}") == V{0, 1, 1, 1, 1, 2, 3, 4});
  // Level 1: the lists [block.act, block.inner, block.2] and [head.0], each on its own.
  CHECK(layer_segments(net, "{kind: checkpoint, level: 1}") == V{-1, 0, 1, 1, 2, -1, 3, -1});
  // Level 2: [block.inner.0, block.inner.1].
  CHECK(layer_segments(net, "{kind: checkpoint, level: 2}") == V{-1, -1, 0, 1, -1, -1, -1, -1});
  // at: one group. block has 3 modules; segments 3: size 1, act and inner checkpointed.
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 3, at: block}") == V{-1, 0, 1, 1, -1, -1, -1, -1});
  CHECK(layer_segments(net, "{kind: checkpoint_sequential, segments: 2, at: block.inner}") ==
        V{-1, -1, 0, -1, -1, -1, -1, -1});
  CHECK(layer_segments(net, "{kind: checkpoint, at: head}") == V{-1, -1, -1, -1, -1, -1, 0, -1});
  // Names reports show.
  CHECK(test::policy("{kind: checkpoint_sequential, segments: 3, at: block}")->name() ==
        "checkpoint_sequential(3, at block)");
  CHECK(test::policy("{kind: checkpoint, level: 1}")->name() == "checkpoint(level 1)");
  CHECK(test::policy("{kind: checkpoint, level: 0}")->name() == "checkpoint");
}

TEST_CASE("nested: plans a level cannot take are refused at the key", "[nested]") {
  const NetSpec net = spec(kNestedSpec), flat = spec(kFlatTwin);
  auto err = [&](const NetSpec& n, const std::string& p) { return error_of([&] { layer_segments(n, p); }); };
  CHECK_THAT(err(net, "{kind: checkpoint_sequential, segments: 6}"),
             Catch::Contains("policy.segments: 6 segments but the network has only 5 top-level modules (give 1 to 5)"));
  CHECK_THAT(err(flat, "{kind: checkpoint_sequential, segments: 9}"),
             Catch::Contains("9 segments but the network has only 8 top-level layers (give 1 to 8)"));
  // Level 1 holds head's single module: 2 segments cannot split it.
  CHECK_THAT(err(net, "{kind: checkpoint_sequential, segments: 2, level: 1}"),
             Catch::Contains("2 segments but group 'head' has only 1 modules (give 1 to 1)"));
  CHECK_THAT(err(net, "{kind: checkpoint, level: 3}"),
             Catch::Contains("policy.level: no sequential group has its modules at level 3"));
  CHECK_THAT(err(flat, "{kind: checkpoint, level: 1}"),
             Catch::Contains("policy.level: no sequential group has its modules at level 1"));
  CHECK_THAT(err(net, "{kind: checkpoint, at: layer3}"),
             Catch::Contains("policy.at: no sequential group is named 'layer3' (groups: block, block.inner, head)"));
  CHECK_THAT(err(net, "{kind: checkpoint, at: fc0}"), Catch::Contains("no sequential group is named 'fc0'"));
  CHECK_THAT(err(net, "{kind: checkpoint, at: block, level: 1}"),
             Catch::Contains("policy.at: give either 'at' (one group) or 'level'"));
}

TEST_CASE("nested: bad groups are refused with the file, line and key path", "[nested]") {
  const std::string head = "name: t\nbatch: 2\ninput: {shape: [4]}\nlayers:\n";
  auto err = [&](const std::string& layers) { return error_of([&] { spec(head + layers); }); };
  CHECK_THAT(err("  - {kind: sequential, name: g}\n"), Catch::Contains("net.yaml:5:5: layers[0]: a sequential group "
                                                                       "needs 'layers'"));
  CHECK_THAT(err("  - {kind: sequential, layers: []}\n"),
             Catch::Contains("layers[0].layers: a sequential group needs at least one layer"));
  CHECK_THAT(err("  - {kind: sequential, layers: [{kind: relu}], out_features: 3}\n"),
             Catch::Contains("layers[0].out_features: unknown key (valid: kind, name, layers, device)"));
  CHECK_THAT(err("  - {kind: sequential, name: a.b, layers: [{kind: relu}]}\n"),
             Catch::Contains("layers[0].name: a group name must be non-empty and without '.'"));
  // Nine sequential groups inside one another: past the `nesting` limit of 8.
  CHECK_THAT(err("  - " + test::nested_groups(9) + "\n"),
             Catch::Contains("layer groups nest too deep (at most 8) (limit nesting = 8"));
  // Eight are fine.
  CHECK(err("  - " + test::nested_groups(8) + "\n").empty());
}

TEST_CASE("nested: resnet50_nested.yaml builds resnet50.yaml's step, only the names differ", "[nested]") {
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/";
  NetSpec nested = parse_net_spec(config::load_file(dir + "resnet50_nested.yaml"));
  NetSpec flat = parse_net_spec(config::load_file(dir + "resnet50.yaml"));
  nested.batch = flat.batch = 2;
  REQUIRE(nested.layers.size() == flat.layers.size());
  CHECK(signature(build_step(nested), false) == signature(build_step(flat), false));
  // torchvision's 11 children, and its names.
  REQUIRE(nested.modules.size() == 11);
  std::vector<size_t> blocks;
  for (const ModuleSpec& m : nested.modules) blocks.push_back(m.children.size());
  CHECK(blocks == std::vector<size_t>{0, 0, 0, 0, 3, 4, 6, 3, 0, 0, 0});
  CHECK(nested.layers[4].name == "layer1.0");
  CHECK(nested.modules[6].children[5].name == "layer3.5");
}

TEST_CASE("nested: ResNet-50 under torchvision's nesting keeps what PyTorch keeps", "[nested][torch]") {
  // PyTorch's saved-after-forward bytes for these splits (the caching allocator's
  // requested_bytes, free of block rounding), measured with scripts/torch_memory.py on
  // torch 2.11.0+cu130, one H200, 2026-11-29: torchvision resnet50 (ReLUs not in place),
  // batch 32 fp32, as nn.Sequential(conv1, bn1, relu, maxpool, layer1, …, layer4, avgpool,
  // Flatten(), fc); backward from ones_like(output).
  struct Case {
    const char* policy;
    const char* torch_case;  ///< its id in torch_measured.jsonl
  };
  const Case cases[] = {
      // checkpoint_sequential(model, 2, x): [conv1 … layer1] checkpointed.
      {"{kind: checkpoint_sequential, segments: 2}", "resnet50_cs2"},
      // checkpoint_sequential(model, 4, x): [conv1, bn1], [relu, maxpool], [layer1, layer2].
      {"{kind: checkpoint_sequential, segments: 4}", "resnet50_cs4"},
      // Every Bottleneck checkpointed on its own, the stem and head plain: level 1.
      {"{kind: checkpoint, level: 1}", "resnet50_bottleneck"},
      {"{kind: none}", "resnet50_none"},
  };
  NetSpec net =
      parse_net_spec(config::load_file(std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/resnet50_nested.yaml"));
  net.batch = 32;
  for (const Case& c : cases) {
    const OpGraph g = build_step(net, *test::policy(c.policy));
    INFO(c.policy);
    CHECK(g.memory.saved_after_forward_bytes == test::torch_figure(c.torch_case, "saved_requested_bytes"));
  }
}

TEST_CASE("nested: a checkpointed segment that saves nothing keeps nothing and re-runs nothing", "[nested]") {
  // adaptive_avg_pool2d to 1×1 runs as mean(), whose MeanBackward1 keeps the shape only; a
  // flatten is a view. Non-reentrant torch.utils.checkpoint holds a segment's inputs only
  // through the saved tensors it packed, and re-runs it only to unpack them: the pool's and
  // the flatten's segments keep and re-run nothing (ResNet-18 under `checkpoint` keeps
  // 427,291,648 B as PyTorch does, not 3,211,264 more: the pool's [32, 512, 7, 7] input).
  // Every layer on its own: the relu segment keeps its input, the conv output (2·4·4 fp32 =
  // 128 B), fc its input (2 fp32 = 8 B), the loss the output (3 fp32 = 12 B).
  const OpGraph g = build_step(spec("name: t\nbatch: 1\ninput: {shape: [2, 4, 4]}\nlayers:\n"
                                    "  - {kind: conv2d, name: conv, out_channels: 2, kernel: 1}\n"
                                    "  - {kind: relu, name: relu}\n  - {kind: avgpool, name: pool, global: true}\n"
                                    "  - {kind: flatten, name: flat}\n  - {kind: linear, name: fc, out_features: 3}\n"),
                               *test::policy("{kind: checkpoint}"));
  CHECK(g.memory.saved_after_forward_bytes == 128 + 8 + 12);
  std::vector<std::string> rerun;
  for (const Op& o : g.ops)
    if (o.phase == Phase::recompute) rerun.push_back(o.layer);
  // Backward order: fc, relu and conv saved tensors (their inputs, the ReLU its output), so
  // PyTorch re-runs them to unpack them; pool and flat are not re-run.
  CHECK(rerun == std::vector<std::string>{"fc", "relu", "conv"});
  for (size_t k = 0; k < g.ops.size(); ++k) {
    CHECK(g.ops[k].id == k);
    for (const uint32_t d : g.ops[k].deps) CHECK(d < k);
  }
}
