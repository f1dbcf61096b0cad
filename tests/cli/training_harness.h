#pragma once
/// What the training-technique CLI tests share (feedback, block_update, newton): the small MLP
/// their hand counts are derived on, `bpsim workload --json` of a spec, and an op lookup.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/cli/cli_harness.h"

namespace bpsim::test {

/// Batch 2, 8 inputs → fc1(16) → ReLU r1 → fc2(12) → ReLU r2 → fc3(4), fp32, with the
/// optimizer and the `training:` map given.
inline std::string tiny_mlp_spec(const Scratch& s, const std::string& name, const std::string& optimizer,
                                 const std::string& training) {
  return s.file(name + ".yaml",
                "name: tiny\ndtype: fp32\nbatch: 2\ninput: { shape: [8] }\noptimizer: " + optimizer +
                    "\ntraining: " + training +
                    "\nlayers:\n  - { kind: linear, name: fc1, out_features: 16 }\n  - { kind: relu, name: r1 }\n"
                    "  - { kind: linear, name: fc2, out_features: 12 }\n  - { kind: relu, name: r2 }\n"
                    "  - { kind: linear, name: fc3, out_features: 4 }\n");
}

/// `bpsim workload SPEC --json`, required to succeed.
inline nlohmann::json workload_json(const std::string& spec_file) {
  const CliResult r = run_bpsim("workload " + spec_file + " --json");
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(r.out);
}

/// Whether the step has an op of that name.
inline bool has_op(const nlohmann::json& w, const std::string& name) {
  for (const auto& o : w["ops"])
    if (o["name"] == name) return true;
  return false;
}

}  // namespace bpsim::test
