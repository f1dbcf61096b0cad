// Nested `sequential` groups and checkpoint levels from the user's side: a spec file through
// `bpsim workload`, the flags --level and --at, and bad nesting refused with exit 2.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "tests/cli/cli_harness.h"
#include "tests/unit/workload/nested_yaml.h"

using namespace bpsim::test;
using Catch::Contains;

namespace {

/// The layers whose forward re-runs, in order, once each.
std::vector<std::string> recomputed_layers(const nlohmann::json& g) {
  std::vector<std::string> layers;
  for (const auto& o : g["ops"])
    if (o["phase"] == "recompute" && (layers.empty() || layers.back() != o["layer"])) layers.push_back(o["layer"]);
  return layers;
}

}  // namespace

TEST_CASE("cli nested: checkpoint_sequential splits the top-level modules of a nested spec", "[cli][nested]") {
  Scratch s("nested");
  const std::string spec = s.file("nested.yaml", kNestedSpec);
  CliResult r = run_bpsim("workload " + spec + " --policy checkpoint_sequential --segments 2 --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto g = nlohmann::json::parse(r.out);
  CHECK(g["policy"] == "checkpoint_sequential(2)");
  // ⌊5/2⌋ = 2 modules, [fc0, block], checkpointed: its five layers re-run.
  CHECK(recomputed_layers(g) ==
        std::vector<std::string>{"fc0", "block.act", "block.inner.0", "block.inner.1", "block.2"});
  // Kept after the forward: act's output (its ReLU backward and head.0's dW read it) 128 B,
  // head.0's output (out's dW) 64 B, the output 32 B; the segment keeps only its input (the
  // network input, not counted).
  CHECK(g["saved_after_forward_bytes"] == 128 + 64 + 32);
  // --at: checkpoint_sequential(model.block, 3, x): ⌊3/3⌋ = 1, [block.act] and [block.inner].
  CliResult a = run_bpsim("workload " + spec + " --policy checkpoint_sequential --segments 3 --at block --json");
  INFO(a.err);
  REQUIRE(a.code == 0);
  const auto ga = nlohmann::json::parse(a.out);
  CHECK(ga["policy"] == "checkpoint_sequential(3, at block)");
  CHECK(recomputed_layers(ga) == std::vector<std::string>{"block.inner.0", "block.inner.1", "block.act"});
  // --level 2: each module of block.inner its own segment.
  CliResult l = run_bpsim("workload " + spec + " --policy checkpoint --level 2 --json");
  INFO(l.err);
  REQUIRE(l.code == 0);
  CHECK(recomputed_layers(nlohmann::json::parse(l.out)) == std::vector<std::string>{"block.inner.1", "block.inner.0"});
}

TEST_CASE("cli nested: plans and groups that cannot be are refused with exit 2", "[cli][nested]") {
  Scratch s("nested_bad");
  const std::string spec = s.file("nested.yaml", kNestedSpec);
  CliResult seg = run_bpsim("workload " + spec + " --policy checkpoint_sequential --segments 6");
  CHECK(seg.code == 2);
  CHECK_THAT(seg.err, Contains("<command line>: workload.policy.segments: 6 segments but the network has only 5 "
                               "top-level modules (give 1 to 5)"));
  CliResult at = run_bpsim("workload " + spec + " --policy checkpoint --at layer9");
  CHECK(at.code == 2);
  CHECK_THAT(at.err, Contains("workload.policy.at: no sequential group is named 'layer9' (groups: block, block.inner, "
                              "head)"));
  CliResult other = run_bpsim("workload " + spec + " --policy optimal --budget 100000 --level 1");
  CHECK(other.code == 2);
  CHECK_THAT(other.err, Contains("workload.policy.level: unknown key"));
  const std::string head = "name: t\nbatch: 2\ninput: {shape: [4]}\nlayers:\n";
  CliResult empty = run_bpsim("workload " + s.file("empty.yaml", head + "  - {kind: sequential, name: g}\n"));
  CHECK(empty.code == 2);
  CHECK_THAT(empty.err, Contains("empty.yaml:5:5: layers[0]: a sequential group needs 'layers'"));
  const std::string deep_spec = s.file("deep.yaml", head + "  - " + nested_groups(9) + "\n");
  CliResult d = run_bpsim("workload " + deep_spec);
  CHECK(d.code == 2);
  CHECK_THAT(d.err, Contains("layer groups nest too deep (at most 8) (limit nesting = 8"));
  // The limit is raised as every other.
  CHECK(run_bpsim("workload " + deep_spec + " --limit nesting=9").code == 0);
}

TEST_CASE("cli nested: ResNet-50 as torchvision nests it splits its 11 children", "[cli][nested]") {
  const std::string dir = std::string(BPSIM_SOURCE_DIR) + "/configs/workloads/";
  CliResult r = run_bpsim("workload " + dir +
                          "resnet50_nested.yaml --batch 2 --policy checkpoint_sequential "
                          "--segments 2 --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  const auto layers = recomputed_layers(nlohmann::json::parse(r.out));
  // ⌊11/2⌋ = 5: [conv1, bn1, relu, maxpool, layer1] re-run, layer2 on is kept.
  REQUIRE(!layers.empty());
  CHECK(layers.front() == "conv1");
  CHECK(layers.back().rfind("layer1.2", 0) == 0);
  for (const std::string& l : layers) CHECK(l.rfind("layer2", 0) != 0);
}
