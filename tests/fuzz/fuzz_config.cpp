// libFuzzer harness: the config layer as `bpsim run` meets it before any model is built.
// An input packs up to three parts, separated by a line "@@": the config (config.yaml), a
// second file it may include or name as its workload spec (inc.yaml), and `--set`
// overrides, one per line. The harness loads the config with its includes, applies the
// overrides, renders the tree, and validates the sections whose schemas live below the
// models: memory (the DDR preset schema and its cross-checks), energy, and workload (a
// network spec, inline or from a file, built into a training step with its policy).
// engine.cpp's prepare() would also check `accelerator` and `run`, but it needs every
// registered model (SystemC, Verilated RTL), which this build leaves out.
#include <sstream>

#include "sim/core/config_node.h"
#include "sim/core/energy.h"
#include "sim/core/params.h"
#include "sim/memory/ddr_spec.h"
#include "sim/memory/sram.h"
#include "sim/workload/load.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using bpsim::config::Node;

/// The model schemas that declare energy actions are not built here, so every name the
/// table itself uses counts as known: what is fuzzed is the table's parsing, not its names.
std::vector<bpsim::ActionDecl> declared_names(const Node& section, const char* key) {
  std::vector<bpsim::ActionDecl> out;
  if (const Node* n = section.find(key))
    for (const auto& e : n->map) out.push_back({e.key, ""});
  return out;
}

void check_sections(const Node& root) {
  using namespace bpsim;
  root.to_yaml();
  if (const Node* mem = root.find("memory"))
    memory::ddr_spec_from(config::validate(*mem, *memory::ddr_schema(), "memory"));
  if (const Node* en = root.find("energy")) {
    std::vector<ActionDecl> known = declared_names(*en, "actions"), units = declared_names(*en, "leakage_mw");
    for (const auto& a : memory::sram_actions().vocabulary.decls()) known.push_back(a);
    for (const auto& u : memory::sram_actions().units.decls()) units.push_back(u);
    EnergyTable::parse(*en, "energy", known, units);
  }
  if (const Node* wl = root.find("workload")) workload::load_workload(*wl, "workload", 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim;
  const std::vector<std::string> parts = fuzz::split_parts(data, size, 3);
  const std::string config = fuzz::write_scratch("config.yaml", parts[0]);
  fuzz::write_scratch("inc.yaml", parts[1]);
  fuzz::expect_input_errors_only([&] {
    Node root = config::load_file(config);
    std::istringstream overrides(parts[2]);
    for (std::string line; std::getline(overrides, line);)
      if (!line.empty()) config::apply_override(root, line);
    check_sections(root);
  });
  return 0;
}
