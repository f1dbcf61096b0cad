#pragma once
/// The `bpsim` subcommands; each returns the process exit code.
#include <string>
#include <vector>

#include "sim/core/error.h"

namespace bpsim::cli {

using bpsim::kExitBadInput;
using bpsim::kExitInternal;
using bpsim::kExitOk;

int main(int argc, char* argv[]);
/// main() on a command line held as strings (args[0] the executable): how a sweep's point
/// runs in a child forked from the sweep process (sweep::RunnerOptions::in_process).
int main_of(std::vector<std::string>& args);
int cmd_run(int argc, char* argv[]);
int cmd_validate(int argc, char* argv[]);
int cmd_list(int argc, char* argv[]);
int cmd_sweep(int argc, char* argv[]);
int cmd_trace(int argc, char* argv[]);
int cmd_compare(int argc, char* argv[]);
int cmd_workload(int argc, char* argv[]);    ///< sim/cli/workload_command.cpp
int cmd_collective(int argc, char* argv[]);  ///< sim/cli/collective_command.cpp

}  // namespace bpsim::cli
