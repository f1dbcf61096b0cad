#include "sim/cli/workload_breakdown.h"

#include <fmt/format.h>
#include <boost/program_options/errors.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>

#include "sim/core/units.h"
#include "sim/ir/breakdown.h"
#include "sim/source/load.h"
#include "sim/workload/framework.h"
#include "sim/workload/policy.h"

namespace bpsim::cli {

using namespace workload;

namespace {

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

void print_breakdown(const std::string& spec, int64_t batch, const std::string& kinds,
                     const std::vector<std::pair<std::string, std::string>>& flags, const std::string& loss,
                     bool json) {
  std::vector<std::pair<std::string, std::string>> keys;  // the flags other than --policy
  std::string single;
  for (const auto& kv : flags) {
    if (kv.first == "kind") single = kv.second;
    else keys.push_back(kv);
  }
  if (!kinds.empty() && !single.empty()) throw boost::program_options::error("give --policy or --policies, not both");
  std::vector<std::string> list = split(kinds.empty() ? single : kinds);
  if (list.empty()) {
    list = {"none", "checkpoint", "full_recompute"};
    for (const auto& kv : keys)
      if (kv.first == "budget_bytes") list.emplace_back("optimal");
  }
  const PolicyRegistry& reg = PolicyRegistry::instance();
  for (const std::string& k : list)
    if (!reg.find(k))
      throw boost::program_options::error("--policies: unknown policy kind '" + k + "' (kinds: " + reg.names() + ")");
  // Each flag's key goes to every listed kind that takes it; one no kind takes is a mistake.
  auto takes = [&](const std::string& kind, const std::string& key) {
    for (const config::ParamDecl& d : reg.find(kind)->params->params())
      if (d.name == key) return true;
    return false;
  };
  for (const auto& kv : keys)
    if (std::none_of(list.begin(), list.end(), [&](const std::string& k) { return takes(k, kv.first); }))
      throw boost::program_options::error("the flag setting '" + kv.first + "' applies to none of the policies " +
                                          fmt::format("{}", fmt::join(list, ", ")));
  std::vector<std::string> names;
  std::vector<MemoryBreakdown> rows;
  std::string net;
  bool framework = false;  // PyTorch's rows (optimizer step, workspaces) are shown
  for (const std::string& k : list) {
    std::vector<std::pair<std::string, std::string>> section = {{"kind", k}};
    for (const auto& kv : keys)
      if (takes(k, kv.first)) section.push_back(kv);
    const OpGraph g = *load_workload(command_line_section(spec, batch, section, loss), "workload", 1);
    net = g.name;
    names.push_back(g.memory.policy);
    // Under framework pytorch_cuda the step is torch.optim's and the process a CUDA one: the
    // optimizer step's own temporaries and the cuBLAS workspaces join the step's memory.
    framework = g.memory.framework == "pytorch_cuda";
    rows.push_back(framework ? memory_breakdown(g, optimizer_step_transient_bytes(g), cublas_process_workspace_bytes())
                             : memory_breakdown(g));
  }
  struct Line {
    const char* name;
    double (*get)(const MemoryBreakdown&);
  };
  // The lines down to total are what is live at the step's high-water mark and add up to it;
  // the two after it say where the forward ends and how high forward + backward go.
  static const Line lines[] = {
      {"weights", [](const MemoryBreakdown& b) { return double(b.weights); }},
      {"optimizer_state", [](const MemoryBreakdown& b) { return double(b.optimizer_state); }},
      {"input", [](const MemoryBreakdown& b) { return double(b.input); }},
      {"workspaces", [](const MemoryBreakdown& b) { return double(b.workspaces); }},
      {"gradients", [](const MemoryBreakdown& b) { return double(b.gradients); }},
      {"activations", [](const MemoryBreakdown& b) { return double(b.activations); }},
      {"temporaries", [](const MemoryBreakdown& b) { return double(b.temporaries); }},
      {"optimizer_step", [](const MemoryBreakdown& b) { return double(b.optimizer_step); }},
      {"total", [](const MemoryBreakdown& b) { return double(b.total); }},
      {"saved@forward", [](const MemoryBreakdown& b) { return double(b.saved_after_forward); }},
      {"peak fwd+bwd", [](const MemoryBreakdown& b) { return double(b.peak); }},
  };
  auto shown = [&](const Line& l) {
    return framework || (std::string(l.name) != "optimizer_step" && std::string(l.name) != "workspaces");
  };
  if (json) {
    nlohmann::json j = {{"name", net}, {"units", "bytes"}, {"policies", nlohmann::json::array()}};
    for (size_t p = 0; p < rows.size(); ++p) {
      const MemoryBreakdown& b = rows[p];
      nlohmann::json row = {{"policy", names[p]},
                            {"weights", b.weights},
                            {"gradients", b.gradients},
                            {"optimizer_state", b.optimizer_state},
                            {"input", b.input},
                            {"activations", b.activations},
                            {"temporaries", b.temporaries},
                            {"total", b.total},
                            {"saved_after_forward", b.saved_after_forward},
                            {"peak", b.peak}};
      if (framework) {
        row["optimizer_step"] = b.optimizer_step;
        row["optimizer_step_transient"] = b.optimizer_step_transient;
        row["workspaces"] = b.workspaces;
      }
      j["policies"].push_back(row);
    }
    if (framework) j["framework"] = "pytorch_cuda";
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("{}: memory of one training step (1 GB = 10^9 bytes)\n", net);
  size_t w = 12;
  for (const std::string& n : names) w = std::max(w, n.size());
  std::cout << fmt::format("{:<16}", "");
  for (const std::string& n : names) std::cout << fmt::format(" {:>{}}", n, w);
  std::cout << "\n";
  for (const Line& l : lines) {
    if (!shown(l)) continue;
    if (std::string(l.name) == "saved@forward") std::cout << "\n";
    std::cout << fmt::format("{:<16}", l.name);
    for (const MemoryBreakdown& b : rows) std::cout << fmt::format(" {:>{}}", units::bytes(l.get(b), 4), w);
    std::cout << "\n";
  }
}

}  // namespace bpsim::cli
