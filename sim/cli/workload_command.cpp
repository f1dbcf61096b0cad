// `bpsim workload SPEC.yaml [--policy P] [--segments N] [--batch B] [--loss L] [--json] [--breakdown]`: the step a spec
// builds.
#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <map>

#include "sim/cli/commands.h"
#include "sim/cli/policy_flags.h"
#include "sim/cli/workload_breakdown.h"
#include "sim/core/error.h"
#include "sim/core/limits.h"
#include "sim/source/load.h"
#include "sim/workload/builder.h"
#include "sim/workload/spec.h"

namespace po = boost::program_options;

namespace bpsim::cli {

using namespace workload;

namespace {

nlohmann::json graph_json(const OpGraph& g) {
  nlohmann::json j;
  j["name"] = g.name;
  j["policy"] = g.memory.policy;
  if (g.memory.framework != "none") j["framework"] = g.memory.framework;
  j["saved_after_forward_bytes"] = g.memory.saved_after_forward_bytes;
  j["peak_bytes"] = g.memory.peak_bytes;
  if (!g.memory.figures.empty()) j["figures"] = g.memory.figures;
  if (const auto& a = g.memory.allocator)
    j["allocator"] = {{"kind", a->kind},
                      {"warmup_steps", a->warmup_steps},
                      {"saved_after_forward_bytes", a->saved_after_forward_bytes},
                      {"peak_bytes", a->peak_bytes},
                      {"baseline_bytes", a->baseline_bytes},
                      {"reserved_bytes", a->reserved_bytes},
                      {"segments", a->segments}};
  j["tensors"] = nlohmann::json::array();
  for (const Tensor& t : g.tensors) {
    j["tensors"].push_back({{"id", t.id}, {"name", t.name}, {"bytes", t.bytes}, {"role", to_string(t.role)}});
    if (t.bits) j["tensors"].back()["bits"] = t.bits;  // an integer tensor at this width
  }
  j["ops"] = nlohmann::json::array();
  for (const Op& o : g.ops) {
    nlohmann::json op = {{"id", o.id},
                         {"name", o.name},
                         {"layer", o.layer},
                         {"phase", to_string(o.phase)},
                         {"kind", to_string(o.kind)},
                         {"macs", o.macs},
                         {"flops", o.flops},
                         {"reads", o.reads},
                         {"writes", o.writes},
                         {"deps", o.deps}};
    if (o.gemm.macs()) op["gemm"] = {{"m", o.gemm.m}, {"n", o.gemm.n}, {"k", o.gemm.k}};
    if (!o.holds.empty()) op["holds"] = o.holds;  // kept alive through the op (framework frees)
    if (o.out_mask.active()) op["mask"] = {{"source", to_string(o.out_mask.source)}, {"density", o.out_mask.density}};
    j["ops"].push_back(op);
  }
  return j;
}

}  // namespace

int cmd_workload(int argc, char* argv[]) {
  std::string spec;
  int64_t batch = -1;  // -1: the spec's batch
  std::string loss;    // empty: the spec's loss
  bool json = false, help = false, breakdown = false;
  std::string policies;
  std::vector<std::string> limit_flags;
  PolicyFlags policy;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help");
  policy.add_to(d);
  d.add_options()("batch", po::value(&batch), "override the spec's batch")(
      "loss", po::value(&loss), "override the spec's loss (choices: bpsim list, workload.loss)")(
      "json", po::bool_switch(&json), "print ops, tensors and memory as JSON")(
      "limit", po::value(&limit_flags), "NAME=N: change a limit, e.g. layers=200000 (README: Limits)")(
      "breakdown", po::bool_switch(&breakdown),
      "memory by what it holds (weights, gradients, optimizer state, input, activations, temporaries) per policy")(
      "policies", po::value(&policies),
      "--breakdown: comma-separated policy kinds (default none,checkpoint,full_recompute, and optimal with --budget)");
  po::options_description all;
  all.add(d).add_options()("spec", po::value(&spec));
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (help) {
    std::cout << "usage: bpsim workload SPEC.yaml [--policy P] [--segments N] [--threshold T] [--budget BYTES]\n"
                 "                      [--cost flops|roofline] [--batch B] [--loss L] [--json] [--limit NAME=N]\n"
                 "       bpsim workload SPEC.yaml --breakdown [--policies P,Q,...] [--budget BYTES] [--json]\n\n"
                 "The flags set workload.policy's keys, checked as in a config (bpsim list shows each kind's).\n\n"
              << d;
    return 0;
  }
  if (spec.empty()) throw po::error("missing SPEC.yaml");
  for (const std::string& l : limit_flags) limits::apply_flag(l);
  if (!policies.empty() && !breakdown) throw po::error("--policies goes with --breakdown");
  if (breakdown) {
    print_breakdown(spec, batch, policies, policy.keys(), loss, json);
    return 0;
  }
  const OpGraph g = *load_workload(command_line_section(spec, batch, policy.keys(), loss), "workload", 1);
  if (json) {
    std::cout << graph_json(g).dump(2) << "\n";
    return 0;
  }
  // Per layer: MACs by phase, and the forward tensors its backward reads (what autograd saves).
  struct Row {
    uint64_t fwd = 0, bwd = 0, re = 0, saved = 0;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  std::vector<bool> forward_written(g.tensors.size(), false), claimed(g.tensors.size(), false);
  for (const Op& o : g.ops) {
    if (!rows.count(o.layer)) order.push_back(o.layer);
    Row& r = rows[o.layer];
    if (o.phase == Phase::forward) {
      r.fwd += o.macs;
      for (uint32_t t : o.writes) forward_written[t] = true;
    } else if (o.phase == Phase::recompute) {
      r.re += o.macs;
    } else if (o.phase != Phase::update) {
      r.bwd += o.macs;
      for (uint32_t t : o.reads)
        if (forward_written[t] && !claimed[t]) {
          claimed[t] = true;
          r.saved += g.tensors[t].bytes;
        }
    }
  }
  std::cout << fmt::format("{}: {} ops, policy {}\n", g.name, g.ops.size(), g.memory.policy);
  size_t w = 8;
  for (const auto& name : order) w = std::max(w, name.size());
  std::cout << fmt::format("{:<{}} {:>16} {:>16} {:>16} {:>16}\n", "layer", w, "saved bytes", "fwd MACs", "bwd MACs",
                           "recompute MACs");
  Row total;
  for (const auto& name : order) {
    const Row& r = rows[name];
    std::cout << fmt::format("{:<{}} {:>16} {:>16} {:>16} {:>16}\n", name, w, r.saved, r.fwd, r.bwd, r.re);
    total.saved += r.saved, total.fwd += r.fwd, total.bwd += r.bwd, total.re += r.re;
  }
  std::cout << fmt::format("{:<{}} {:>16} {:>16} {:>16} {:>16}\n", "total", w, total.saved, total.fwd, total.bwd,
                           total.re);
  std::cout << fmt::format("saved_after_forward_bytes {}\npeak_bytes {}\nrecompute_flops {:.0f}\n",
                           g.memory.saved_after_forward_bytes, g.memory.peak_bytes, recompute_cost(g, CostModel{}));
  for (const auto& [k, v] : g.memory.figures) std::cout << fmt::format("{} {:.6g}\n", k, v);
  if (const auto& a = g.memory.allocator)
    std::cout << fmt::format(
        "allocator {} (after {} warm-up steps)\nallocated_saved_after_forward_bytes {}\nallocated_peak_bytes {}\n"
        "allocated_baseline_bytes {}\nreserved_bytes {}\nsegments {}\n",
        a->kind, a->warmup_steps, a->saved_after_forward_bytes, a->peak_bytes, a->baseline_bytes, a->reserved_bytes,
        a->segments);
  return 0;
}

}  // namespace bpsim::cli
