#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("prune_regrow", &TrainingSpec::prune_regrow, prune_regrow_binder(),
            "sparse evolutionary training: prune the smallest kept weights and regrow as many (SET)");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (given_node.find("prune_regrow")) spec.prune_regrow = given.prune_regrow;
}

}  // namespace bpsim::workload
