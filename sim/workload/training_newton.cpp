#include "sim/workload/training_newton.h"

#include <cmath>
#include <tuple>

#include "sim/core/error.h"
#include "sim/workload/emit.h"
#include "sim/workload/plan.h"

namespace bpsim::workload {

const config::Binder<NewtonSpec>& newton_binder() {
  static const auto b = [] {
    config::Binder<NewtonSpec> n("newton",
                                 "Newton steps by blocks: K-FAC's Kronecker-factored block-diagonal curvature "
                                 "(Martens & Grosse 2015)");
    n.choice("kind", &NewtonSpec::kind, kNewtonKindNames,
             "none: the optimizer's gradient step; kfac: per weight layer A = X^T X/M and G = dY^T dY/M (kept as "
             "running averages, fp32), the gradient multiplied by G^-1 and A^-1 before the update")
        .def("none");
    n.integer("inverse_interval", &NewtonSpec::inverse_interval, "steps",
              "the inverses of A and G (damped, through a Cholesky factor: n^3/2 MACs each) are made again every "
              "this many steps (Martens & Grosse: 20)")
        .def(20)
        .range(1, int64_t(1) << 40);
    n.integer("step", &NewtonSpec::step, "",
              "the step simulated: it inverts the factors when step mod "
              "inverse_interval is 0 (memory.figures also give the amortised MACs)")
        .def(0)
        .range(0, int64_t(1) << 40);
    return n;
  }();
  return b;
}

void check_newton(const NewtonSpec& s, const NetPlan& plan) {
  if (s.kind == NewtonKind::none) return;
  for (const Node& n : plan.nodes) {
    const LayerSpec& l = *n.l;
    std::string why;
    if (n.kind == "binary_linear" || n.kind == "binary_conv2d")
      why = "is binary: K-FAC's factors are for real-valued layers";
    else if (n.kind == "conv2d" && l.groups > 1) why = "is a grouped convolution: a block per group is not modelled";
    else if (n.tied >= 0) why = "shares its weight with an embedding: one block for two uses is not modelled";
    if (!why.empty()) throw InputError(l.loc, l.name, "training.newton.kind: kfac: this layer " + why);
  }
}

GemmDims kfac_inverse_gemm(uint64_t n) { return GemmDims{n, n, (n + 1) / 2, 1}; }

void StepEmitter::kfac(size_t i, uint32_t x, uint32_t dy, const GemmDims& f, const std::vector<uint32_t>& grads) {
  const NewtonSpec& s = m_net.training.newton;
  const LayerSpec& l = *m_plan.nodes[i].l;
  // The block of W and its bias: A over X with a column of ones appended (the bias's input),
  // G over dY. f: the layer's forward GEMM, Y[M×N] = X[M×K]·W[K×N] (a conv's im2col form).
  const uint64_t a = f.k + (l.bias ? 1 : 0), g = f.n, m = f.m;
  auto state = [&](const std::string& what, uint64_t n) {
    return tensor(l.name + ".kfac_" + what, n * n * 4, TensorRole::optimizer_state);  // fp32, kept between steps
  };
  auto gemm = [&](const std::string& what, std::vector<uint32_t> reads, std::vector<uint32_t> writes, GemmDims d) {
    Op& o =
        op(l.name + ".kfac_" + what, l.name, Phase::backward_weight, OpKind::gemm, std::move(reads), std::move(writes));
    o.gemm = d;
    o.macs = d.macs();
    o.detail = "kfac_" + what;
  };
  // This step's factors (workspaces), then the running averages A ← εA + (1−ε)A_step.
  const uint32_t a_run = state("a", a), g_run = state("g", g), a_inv = state("a_inv", a), g_inv = state("g_inv", g);
  const uint32_t a_new = tensor(l.name + ".kfac_a_step", a * a * 4, TensorRole::workspace);
  const uint32_t g_new = tensor(l.name + ".kfac_g_step", g * g * 4, TensorRole::workspace);
  gemm("a_factor", {x}, {a_new}, GemmDims{a, a, m, 1});   // XᵀX: [a×M]·[M×a]
  gemm("g_factor", {dy}, {g_new}, GemmDims{g, g, m, 1});  // dYᵀdY: [g×M]·[M×g]
  for (const auto& [run, step, n] : {std::tuple{a_run, a_new, a}, std::tuple{g_run, g_new, g}}) {
    Op& o =
        op(m_g.tensors[run].name + "_average", l.name, Phase::backward_weight, OpKind::elementwise, {run, step}, {run});
    o.elements = n * n;
    o.flops = 3 * n * n;  // εA + (1 − ε)·A_step
    o.detail = "kfac_average";
  }
  if (s.inverts()) {  // (A + π√λ·I)⁻¹ and (G + √λ/π·I)⁻¹ through their Cholesky factors
    gemm("a_inverse", {a_run}, {a_inv}, kfac_inverse_gemm(a));
    gemm("g_inverse", {g_run}, {g_inv}, kfac_inverse_gemm(g));
  }
  // The gradient [g × a] (dW with db as its last column) becomes G⁻¹·D·A⁻¹, in place.
  std::vector<uint32_t> reads = grads;
  reads.push_back(g_inv);
  gemm("precondition_g", reads, grads, GemmDims{g, a, g, 1});
  reads.back() = a_inv;
  gemm("precondition_a", reads, grads, GemmDims{g, a, a, 1});
}

void newton_figures(const NewtonSpec& s, OpGraph& g) {
  if (s.kind == NewtonKind::none) return;
  double state = 0, factor = 0, inverse = 0, amortised = 0, precondition = 0;
  for (const Tensor& t : g.tensors)
    if (t.role == TensorRole::optimizer_state && t.name.find(".kfac_") != std::string::npos) state += double(t.bytes);
  for (const Op& o : g.ops) {
    if (o.detail == "kfac_a_factor" || o.detail == "kfac_g_factor") factor += double(o.macs);
    if (o.detail == "kfac_precondition_g" || o.detail == "kfac_precondition_a") precondition += double(o.macs);
    if (o.detail == "kfac_a_inverse" || o.detail == "kfac_g_inverse") inverse += double(o.macs);
  }
  // The inversion MACs per step over a whole interval: made on one step of every interval.
  for (const Tensor& t : g.tensors) {
    const std::string& n = t.name;
    const bool run =
        n.size() > 7 && (n.compare(n.size() - 7, 7, ".kfac_a") == 0 || n.compare(n.size() - 7, 7, ".kfac_g") == 0);
    if (!run) continue;
    const auto k = uint64_t(std::llround(std::sqrt(double(t.bytes) / 4.0)));  // the side, from its fp32 bytes
    amortised += double(kfac_inverse_gemm(k).macs()) / double(s.inverse_interval);
  }
  g.memory.figures["newton_state_bytes"] = state;
  g.memory.figures["newton_factor_macs"] = factor;
  g.memory.figures["newton_inverse_macs"] = inverse;
  g.memory.figures["newton_inverse_macs_per_step"] = amortised;
  g.memory.figures["newton_precondition_macs"] = precondition;
  g.memory.figures["newton_inverts"] = s.inverts() ? 1 : 0;
}

}  // namespace bpsim::workload
