#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("learner", &TrainingSpec::learner, learner_binder(),
            "what trains the weights: backprop, or an ensemble Kalman filter on low-bit weights (enkf)");
    t.group("precision", &TrainingSpec::precision, precision_binder(),
            "per-group mixed precision: a fraction of chosen linear layers' output neurons in a wider dtype");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (given_node.find("learner")) spec.learner = given.learner;
  if (given_node.find("precision")) spec.precision = given.precision;
}

}  // namespace bpsim::workload
