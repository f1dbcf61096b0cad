#pragma once
/// Knowledge distillation into a cluster-quantised student (Hinton et al. 2015; weight
/// clustering with a codebook, Han et al. 2016): a teacher's forward (no backward, no update)
/// on the same input, soft targets at a temperature, the KL term's gradient added into the
/// student's, and the student's weights stored as cluster indices plus a codebook that each
/// GEMM decodes (docs/techniques.md, "Distillation with a quantized student"). The
/// `training: distill:` key.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/core/binder.h"
#include "sim/core/config_node.h"
#include "sim/core/error.h"
#include "sim/ir/ir.h"
#include "sim/workload/training_exit.h"

namespace bpsim::workload {

struct NetSpec;
struct NetPlan;

/// `teacher`: the teacher's network spec (a file, relative to where it is written); it runs
/// on the same accelerator in the student's dtype and batch. `temperature`: the softmax's T.
/// `clusters`: K shared weight values per student linear/conv2d weight (0: the student's
/// weights stay dense). Off when `teacher` is empty.
struct Distill {
  std::optional<std::string> teacher;
  std::string teacher_path;  ///< resolved where the key is read
  double temperature = 4;
  uint64_t clusters = 0;
  std::shared_ptr<const NetSpec> teacher_net;  ///< parsed where the key is read (overlay_training)
  Location where;                              ///< where the distill map was written, for messages
  bool on() const { return teacher_net != nullptr; }
};

/// The `distill:` keys.
const config::Binder<Distill>& distill_binder();

/// Reads the teacher spec `d.teacher` names (resolved from the `distill:` map `node`'s file)
/// into d.teacher_net. Throws InputError at training.distill.teacher.
void load_teacher(Distill& d, const config::Node& node);

/// Applies distillation to a step built from `net` and `plan` (before the memory policy's
/// rewrites): the teacher's forward ahead of the student's, the soft-target KL term after the
/// student's loss, and, with clusters, the weight decode and per-cluster gradient ops;
/// `op_node` follows (new ops: -1). Fills g.memory.figures (distill_*). Throws InputError.
void apply_distill(OpGraph& g, const NetSpec& net, const NetPlan& plan, std::vector<int>& op_node,
                   std::vector<BackwardEntry>& entries);

}  // namespace bpsim::workload
