#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("feedback", &TrainingSpec::feedback, feedback_binder(), "feedback alignment (FA, DFA)");
    t.group("block_update", &TrainingSpec::block_update, block_update_binder(), "block coordinate descent");
    t.group("newton", &TrainingSpec::newton, newton_binder(), "Newton steps by blocks (K-FAC)");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (given_node.find("feedback")) spec.feedback = given.feedback;
  if (given_node.find("block_update")) spec.block_update = given.block_update;
  if (given_node.find("newton")) spec.newton = given.newton;
}

}  // namespace bpsim::workload
