// libFuzzer harness: the subset YAML reader (sim/core/yaml_subset.h) against yaml-cpp. An
// input is one YAML text. Whatever the subset accepts, yaml-cpp and bpsim's conversion must
// read to the same tree, locations included; a difference, or yaml-cpp refusing the text,
// is a finding. Texts the subset declines need nothing: parse_yaml hands them to yaml-cpp.
#include <cstdio>
#include <cstdlib>

#include "sim/core/yaml_subset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bpsim::config;
  const std::string text(reinterpret_cast<const char*>(data), size);
  uint64_t nodes = 0;
  const std::optional<Node> fast = parse_yaml_subset(text, "in.yaml", 1000000, 64, nodes);
  if (!fast) return 0;
  std::string diff;
  try {
    diff = first_difference(*fast, parse_yaml_cpp(text, "in.yaml"));
  } catch (const bpsim::InputError& e) {
    diff = std::string("yaml-cpp refuses it: ") + e.what();
  }
  if (!diff.empty()) {
    std::fprintf(stderr, "bpsim fuzz: the subset reader differs from yaml-cpp: %s\n", diff.c_str());
    std::abort();
  }
  return 0;
}
