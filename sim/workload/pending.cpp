// Placeholders until the workload builder (issue 3) lands: workload specs are refused with
// a clear input error, so configs that need one fail loudly instead of running empty.
// Traces (workload: {trace: FILE}) are replayed by the engine without these.
#include <iostream>

#include "sim/core/error.h"
#include "sim/workload/command.h"
#include "sim/workload/load.h"

namespace bpsim::workload {

std::shared_ptr<OpGraph> load_workload(const config::Node& section, const std::string& key_path, uint64_t) {
  throw InputError(section.loc, key_path,
                   "network specs are not supported by this build yet (the workload builder is pending); "
                   "use workload: {trace: FILE} with a bpsim trace");
}

int cmd_workload(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::cout << "usage: bpsim workload SPEC.yaml [--policy P] [--json]\n\n"
                   "(the workload builder is pending in this build)\n";
      return 0;
    }
  std::cerr << "bpsim workload: the workload builder is not in this build yet\n";
  return 2;
}

}  // namespace bpsim::workload
