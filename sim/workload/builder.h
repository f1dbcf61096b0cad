#pragma once
/// Turns a network into the op graph of one training step (forward, backward, update)
/// under a memory policy; the liveness walk (liveness.h) then accounts its memory.
#include <string>
#include <vector>

#include "sim/ir/ir.h"
#include "sim/ir/liveness.h"
#include "sim/workload/plan.h"
#include "sim/workload/policy.h"
#include "sim/workload/policy_rewrites.h"
#include "sim/workload/recompute.h"
#include "sim/workload/spec.h"

namespace bpsim::workload {

/// Builds the step: the policy's recompute plan, the ops, the policy's rewrites, then the
/// memory accounting. Throws InputError for shape mismatches (naming the layer and both
/// shapes) and plans the network cannot take (more segments than layers, unmeetable budgets).
OpGraph build_step(const NetSpec& net, const Policy& policy = no_policy());

/// Builds the step with a per-node recompute plan (policy.h: segment id per plan node,
/// -1 stored). `op_node`, when given, receives per op the plan node whose forward,
/// recompute or backward emitted it (-1: the loss and the optimizer updates). `entries`,
/// when given, receives per node where its backward starts (training_exit.h).
OpGraph build_with_segments(const NetSpec& net, const NetPlan& plan, const std::vector<int>& node_seg,
                            std::vector<int>* op_node = nullptr, std::vector<BackwardEntry>* entries = nullptr);

}  // namespace bpsim::workload
