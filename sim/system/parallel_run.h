#pragma once
/// Data, pipeline and tensor parallelism of one training step over N identical devices
/// (docs/system.md "Parallelism"): the device's step is built at its share of the batch (and
/// of each transformer block, for tensor parallelism), simulated once on the device's model —
/// every device of a data-parallel or tensor-parallel group runs the same ops, so one
/// simulation stands for all of them — and the system step is placed on one clock from those
/// per-op costs, with the collectives and the stage-to-stage transfers on the fabric.
#include <cstdint>
#include <memory>

#include "sim/engine/engine.h"
#include "sim/ir/ir.h"
#include "sim/system/system_report.h"
#include "sim/system/system_spec.h"
#include "sim/system/tensor_parallel.h"

namespace bpsim::system {

/// One device's step of a parallel run, built and checked: what run_parallel simulates.
struct ParallelStep {
  std::shared_ptr<workload::OpGraph> graph;  ///< the device's ops: batch / (data·microbatches), blocks split T ways
  uint64_t batch = 0;                        ///< the spec's whole batch
  TensorSharding sharding;                   ///< tensor parallelism's split (blocks, replicated layers)
};

/// Every check run_parallel makes before it simulates (the degrees against the devices, fabric
/// and network; the batch split; the tensor-parallel split), and the device's step they give.
/// `bpsim validate` stops here; InputError (exit 2) with the reason where a check fails.
ParallelStep prepare_parallel(const RunSpec& top, const SystemSpec& sys);

/// Runs the step `sys.parallel` asks for (docs/system.md "Parallelism") and returns what the
/// system's report writes (`extra["parallel"]`: the parallelism's own figures). Throws
/// InputError (exit 2) for a degree the devices, the batch or the network cannot take and for
/// combinations that are not modelled, each with its reason.
SystemResult run_parallel(const RunSpec& top, const SystemSpec& sys);

}  // namespace bpsim::system
