#pragma once
/// The training techniques of a step beyond its memory policy (docs/techniques.md): the
/// spec's `training:` map, one key per technique, each declared in its technique's own file
/// and off when absent. A config's `workload: training:` overrides the spec's technique by
/// technique.
#include "sim/core/binder.h"
#include "sim/core/config_node.h"
#include "sim/workload/training_block.h"
#include "sim/workload/training_distill.h"
#include "sim/workload/training_exit.h"
#include "sim/workload/training_feedback.h"
#include "sim/workload/training_learner.h"
#include "sim/workload/training_newton.h"
#include "sim/workload/training_precision.h"
#include "sim/workload/training_sparse_weights.h"

namespace bpsim::workload {

/// One member per technique (its own struct, header and binder); a default-built member is
/// the technique turned off.
struct TrainingSpec {
  LearnerSpec learner;      ///< training_learner.h: backprop, or ensemble Kalman inversion
  PrecisionSpec precision;  ///< training_precision.h: neuron groups at a wider dtype
  EarlyExit early_exit;
  Distill distill;
  PruneRegrowSpec prune_regrow;  ///< SET (training_sparse_weights.h)
  FeedbackSpec feedback;         ///< feedback alignment (FA, DFA): training_feedback.h
  BlockUpdateSpec block_update;  ///< block coordinate descent: training_block.h
  NewtonSpec newton;             ///< Newton steps by blocks (K-FAC): training_newton.h
};

/// The `training:` keys, declared once (the spec's and the workload section's).
const config::Binder<TrainingSpec>& training_binder();

/// `given` parsed from `given_node` (a config's `workload: training:` map): each technique
/// the map names replaces the spec's, the others stay as the spec has them.
void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node);

}  // namespace bpsim::workload
