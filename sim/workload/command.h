#pragma once
/// `bpsim workload SPEC.yaml [--policy P] [--segments N] [--batch B] [--json]`.
namespace bpsim::workload {

/// argv[0] is "workload". Returns the exit code (0 ok, 2 bad input).
int cmd_workload(int argc, char** argv);

}  // namespace bpsim::workload
