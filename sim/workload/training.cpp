#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("feedback", &TrainingSpec::feedback, feedback_binder(), "feedback alignment (FA, DFA)");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (given_node.find("feedback")) spec.feedback = given.feedback;
}

}  // namespace bpsim::workload
