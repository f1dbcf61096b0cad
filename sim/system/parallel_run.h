#pragma once
/// Data, pipeline and tensor parallelism of one training step over N identical devices
/// (docs/system.md "Parallelism"): the device's step is built at its share of the batch (and
/// of each transformer block, for tensor parallelism), simulated once on the device's model —
/// every device of a data-parallel or tensor-parallel group runs the same ops, so one
/// simulation stands for all of them — and the system step is placed on one clock from those
/// per-op costs, with the collectives and the stage-to-stage transfers on the fabric.
#include "sim/engine/engine.h"
#include "sim/system/system_report.h"
#include "sim/system/system_spec.h"

namespace bpsim::system {

/// Runs the step `sys.parallel` asks for (docs/system.md "Parallelism") and returns what the
/// system's report writes (`extra["parallel"]`: the parallelism's own figures). Throws
/// InputError (exit 2) for a degree the devices, the batch or the network cannot take and for
/// combinations that are not modelled, each with its reason.
SystemResult run_parallel(const RunSpec& top, const SystemSpec& sys);

}  // namespace bpsim::system
