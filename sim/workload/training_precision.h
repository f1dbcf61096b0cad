#pragma once
/// `training: {precision: ...}`: per-group mixed precision (FairQuanti-style: chosen neuron
/// groups kept at a higher precision). A fraction of the output neurons of chosen linear
/// layers computes and is stored in a wider dtype than the network's, the rest in the
/// network's; each such layer's GEMMs split into a wide and a narrow part
/// (docs/techniques.md).
#include <string>
#include <vector>

#include "sim/core/binder.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetSpec;  // spec.h, which includes this header through training.h
struct NetPlan;

struct PrecisionSpec {
  double fraction = 0;  ///< of each chosen layer's output neurons at `dtype` (0: off)
  DType dtype = DType::fp32;
  std::vector<std::string> layers;  ///< linear layers by name; empty: every linear layer
};

const config::Binder<PrecisionSpec>& precision_binder();

/// Splits the chosen layers' GEMMs of the built step `g` (forward, recompute, dX, dW) into
/// their wide and narrow parts and sizes their weights, gradients and outputs by precision.
/// Nothing when the fraction is 0. Throws InputError naming `training.precision` for a
/// layer or dtype it cannot model.
void apply_precision(OpGraph& g, const NetSpec& net, const NetPlan& plan);

}  // namespace bpsim::workload
