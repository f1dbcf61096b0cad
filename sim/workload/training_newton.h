#pragma once
/// Newton steps by blocks: the `training: newton:` key. K-FAC (Martens & Grosse 2015; for
/// convolutions KFC, Grosse & Martens 2016): each weight layer's block of the Fisher is
/// approximated by the Kronecker product A ⊗ G of its input's second moment A = XᵀX/M and its
/// output gradient's G = dYᵀdY/M; the step multiplies the layer's gradient by G⁻¹ on one
/// side and A⁻¹ on the other, the inverses made again every `inverse_interval` steps
/// (docs/techniques.md).
#include <cstdint>

#include "sim/core/binder.h"
#include "sim/ir/ir.h"

namespace bpsim::workload {

struct NetPlan;

enum class NewtonKind { none, kfac };
inline constexpr config::EnumName<NewtonKind> kNewtonKindNames[] = {{NewtonKind::none, "none"},
                                                                    {NewtonKind::kfac, "kfac"}};

struct NewtonSpec {
  NewtonKind kind{};              ///< none: off
  uint64_t inverse_interval = 0;  ///< the factors' inverses are made again every this many steps
  uint64_t step = 0;              ///< the step simulated: it inverts when step mod interval is 0
  bool inverts() const { return kind != NewtonKind::none && step % inverse_interval == 0; }
};

const config::Binder<NewtonSpec>& newton_binder();

/// Refuses (InputError naming the layer and `training.newton`) what K-FAC has no block for
/// here: a binary layer, a grouped convolution, a weight tied to an embedding.
void check_newton(const NewtonSpec& s, const NetPlan& plan);

/// MACs of inverting one damped n × n factor through its Cholesky factor: n³/6 to factor,
/// n³/6 to invert the triangle, n³/6 for L⁻ᵀL⁻¹, priced as an n × n × ⌈n/2⌉ GEMM (a blocked
/// Cholesky spends nearly all of them in GEMM-shaped trailing updates).
GemmDims kfac_inverse_gemm(uint64_t n);

/// memory.figures: the factor and inverse bytes kept, the MACs of the factors, of the
/// inversions this step and amortised per step, and of the preconditioning.
void newton_figures(const NewtonSpec& s, OpGraph& g);

}  // namespace bpsim::workload
