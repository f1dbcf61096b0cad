// libFuzzer harness: the subset YAML reader (sim/core/yaml_subset.h) against yaml-cpp. An
// input is one YAML text. Whatever the subset accepts, yaml-cpp and bpsim's conversion must
// read to the same tree, locations included; a difference, or yaml-cpp refusing the text,
// is a finding. Texts the subset declines need nothing: parse_yaml hands them to yaml-cpp.
#include <cstdio>
#include <cstdlib>

#include "tests/yaml_difference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string diff =
      bpsim::config::testing::subset_difference(std::string(reinterpret_cast<const char*>(data), size), "in.yaml");
  if (!diff.empty()) {
    std::fprintf(stderr, "bpsim fuzz: the subset reader differs from yaml-cpp: %s\n", diff.c_str());
    std::abort();
  }
  return 0;
}
