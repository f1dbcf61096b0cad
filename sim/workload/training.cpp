#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("early_exit", &TrainingSpec::early_exit, early_exit_binder(),
            "exit heads after chosen layers; samples that leave skip the later layers (BranchyNet)");
    t.group("distill", &TrainingSpec::distill, distill_binder(),
            "knowledge distillation from a teacher spec into a (cluster-quantised) student");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (const config::Node* e = given_node.find("early_exit")) {
    spec.early_exit = given.early_exit;
    spec.early_exit.where = e->loc;
  }
  if (const config::Node* d = given_node.find("distill")) {
    spec.distill = given.distill;
    spec.distill.where = d->loc;
    load_teacher(spec.distill, *d);
  }
}

}  // namespace bpsim::workload
