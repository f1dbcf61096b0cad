#include "sim/workload/training.h"

namespace bpsim::workload {

const config::Binder<TrainingSpec>& training_binder() {
  static const auto b = [] {
    config::Binder<TrainingSpec> t("training", "training techniques beyond the memory policy (docs/techniques.md)");
    t.group("learner", &TrainingSpec::learner, learner_binder(),
            "what trains the weights: backprop, or an ensemble Kalman filter on low-bit weights (enkf)");
    t.group("precision", &TrainingSpec::precision, precision_binder(),
            "per-group mixed precision: a fraction of chosen linear layers' output neurons in a wider dtype");
    t.group("early_exit", &TrainingSpec::early_exit, early_exit_binder(),
            "exit heads after chosen layers; samples that leave skip the later layers (BranchyNet)");
    t.group("distill", &TrainingSpec::distill, distill_binder(),
            "knowledge distillation from a teacher spec into a (cluster-quantised) student");
    t.group("prune_regrow", &TrainingSpec::prune_regrow, prune_regrow_binder(),
            "sparse evolutionary training: prune the smallest kept weights and regrow as many (SET)");
    t.group("feedback", &TrainingSpec::feedback, feedback_binder(), "feedback alignment (FA, DFA)");
    t.group("block_update", &TrainingSpec::block_update, block_update_binder(), "block coordinate descent");
    t.group("newton", &TrainingSpec::newton, newton_binder(), "Newton steps by blocks (K-FAC)");
    return t;
  }();
  return b;
}

void overlay_training(TrainingSpec& spec, const TrainingSpec& given, const config::Node& given_node) {
  if (given_node.find("learner")) spec.learner = given.learner;
  if (given_node.find("precision")) spec.precision = given.precision;
  if (const config::Node* e = given_node.find("early_exit")) {
    spec.early_exit = given.early_exit;
    spec.early_exit.where = e->loc;
  }
  if (const config::Node* d = given_node.find("distill")) {
    spec.distill = given.distill;
    spec.distill.where = d->loc;
    load_teacher(spec.distill, *d);
  }
  if (given_node.find("prune_regrow")) spec.prune_regrow = given.prune_regrow;
  if (given_node.find("feedback")) spec.feedback = given.feedback;
  if (given_node.find("block_update")) spec.block_update = given.block_update;
  if (given_node.find("newton")) spec.newton = given.newton;
}

}  // namespace bpsim::workload
