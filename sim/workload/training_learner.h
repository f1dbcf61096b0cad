#pragma once
/// `training: {learner: ...}`: what trains the weights. `backprop` (the default) is the step
/// the builder emits; `enkf` replaces the backward and the optimizer by ensemble Kalman
/// inversion (Kovachki & Stuart 2019) on low-bit weights: N forward passes of perturbed
/// weights, the ensemble's statistics and a low-bit update (docs/techniques.md).
#include <cstdint>
#include <string>

#include "sim/core/binder.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;  // spec.h, which includes this header through training.h
struct NetPlan;

enum class LearnerKind { backprop, enkf };
inline constexpr config::EnumName<LearnerKind> kLearnerNames[] = {{LearnerKind::backprop, "backprop"},
                                                                  {LearnerKind::enkf, "enkf"}};

/// How the ensemble is kept between steps: every member's weights (EKI's particles), or the
/// mean weights and one seed per member, the perturbations drawn again where they are used.
enum class EnsembleState { stored, seeded };
inline constexpr config::EnumName<EnsembleState> kEnsembleStateNames[] = {{EnsembleState::stored, "stored"},
                                                                          {EnsembleState::seeded, "seeded"}};

struct LearnerSpec {
  LearnerKind kind = LearnerKind::backprop;
  uint64_t ensemble = 0;     ///< N members
  uint64_t weight_bits = 0;  ///< bits per stored weight
  EnsembleState state = EnsembleState::stored;
};

const config::Binder<LearnerSpec>& learner_binder();

/// The step of `net` under an enkf learner (its ops and tensors; memory not yet accounted).
/// Throws InputError naming `training.learner` for a network or setting it cannot model.
OpGraph build_enkf_step(const NetSpec& net, const NetPlan& plan, const std::string& policy);

}  // namespace bpsim::workload
