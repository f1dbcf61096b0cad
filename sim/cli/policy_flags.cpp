#include "sim/cli/policy_flags.h"

#include <boost/program_options.hpp>

#include "sim/workload/policy.h"

namespace bpsim::cli {

const std::array<PolicyFlags::Flag, 12> PolicyFlags::kFlags = {{
    {"policy", "kind", "memory policy (default none)"},
    {"segments", "segments", "checkpoint_sequential: segments (default 2)"},
    {"level", "level", "checkpoint, checkpoint_sequential: depth of the module lists split (default 0, the top level)"},
    {"at", "at", "checkpoint, checkpoint_sequential: split only this sequential group's modules, e.g. layer3"},
    {"threshold", "threshold", "threshold: recompute cost per stored byte above which a node is stored"},
    {"budget", "budget_bytes", "evaluation, optimal: peak memory to fit, bytes"},
    {"cost", "cost", "threshold, evaluation, optimal: recompute cost, flops (default) | roofline"},
    {"flops-per-cycle", "flops_per_cycle", "roofline: peak FLOPs per cycle (default 512)"},
    {"bytes-per-cycle", "bytes_per_cycle", "roofline: memory bytes per cycle (default 64)"},
    {"density", "density", "sparse_storage: non-zero fraction of activations (default: ReLU densities)"},
    {"index-bits", "index_bits", "sparse_storage: bits per offset (default 16)"},
    {"allowable-error", "allowable_error",
     "confidence_skip: gradient share skipped samples may drop (default 0.05; confidences ~ Beta(8, 2), seed 1)"},
}};

void PolicyFlags::add_to(boost::program_options::options_description& d) {
  namespace po = boost::program_options;
  for (size_t i = 0; i < kFlags.size(); ++i) {
    const std::string help = i == 0 ? std::string(kFlags[i].help) + ": " + workload::PolicyRegistry::instance().names()
                                    : std::string(kFlags[i].help);
    d.add_options()(kFlags[i].flag,
                    po::value<std::string>()->notifier([this, i](const std::string& v) { m_given[i] = v; }),
                    help.c_str());
  }
}

std::vector<std::pair<std::string, std::string>> PolicyFlags::keys() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (size_t i = 0; i < kFlags.size(); ++i)
    if (m_given[i]) out.emplace_back(kFlags[i].key, *m_given[i]);
  return out;
}

}  // namespace bpsim::cli
