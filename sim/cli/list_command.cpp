#include <boost/program_options.hpp>
#include "sim/core/build_info.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/core/config_node.h"
#include "sim/core/params.h"
#include "sim/engine/accelerator.h"
#include "sim/engine/engine.h"
#include "sim/memory/memory_factory.h"
#include "sim/source/load.h"
#include "sim/workload/policy.h"
#include "sim/workload/spec.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace bpsim::cli {

namespace {

std::vector<fs::path> yaml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::is_directory(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int cmd_list(int argc, char* argv[]) {
  bool help = false;
  std::string configs = std::string(BPSIM_SOURCE_DIR) + "/configs";
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")("configs", po::value(&configs),
                                                                      "folder holding memory/ and energy/ presets");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, d), vm);
  po::notify(vm);
  if (help) {
    std::cout << "usage: bpsim list [--configs DIR]\n\n" << d;
    return kExitOk;
  }
  std::cout << "accelerators (accelerator.kind):\n";
  for (const auto& k : Registry::instance().all()) {
    std::cout << "\n" << k.kind << ": " << k.description << "\n";
    std::cout << k.schema->describe(2);
    if (!k.actions.empty()) {
      std::cout << "  energy actions counted:\n";
      for (const auto& a : k.actions) std::cout << "    " << a.name << ": " << a.description << "\n";
    }
  }

  std::cout << "\nmemory policies (workload.policy.kind; workload.policies.KIND holds a kind's keys for compare "
               "and sweeps):\n";
  for (const auto& k : workload::PolicyRegistry::instance().all()) {
    std::cout << "\n" << k.name << ": " << k.description << "\n";
    std::cout << (k.params->params().empty() ? std::string("  (no parameters)\n") : k.params->describe(2));
  }

  std::cout << "\nworkload (the workload: section, with a network spec):\n" << workload::workload_schema()->describe(2);
  std::cout << "\nnetwork spec (configs/workloads/*.yaml; `layers` lists the layers):\n"
            << workload::net_spec_schema()->describe(2) << "  optimizer, as a map:\n"
            << workload::optimizer_schema()->describe(4);
  std::cout << "\nmemory (the memory: section):\n" << memory::memory_schema()->describe(2);
  std::cout << "\nmemory presets (include one):\n";
  for (const auto& f : yaml_files(fs::path(configs) / "memory")) {
    config::Node n = config::load_file(f.string());
    const config::Node* m = n.find("memory");
    const config::Node* name = m ? m->find("name") : nullptr;
    std::cout << "  " << f.filename().string() << (name ? ": " + name->scalar : std::string()) << "\n";
  }

  std::cout << "\nenergy tables (include one):\n";
  for (const auto& f : yaml_files(fs::path(configs) / "energy")) {
    config::Node n = config::load_file(f.string());
    const config::Node* e = n.find("energy");
    const config::Node* acts = e ? e->find("actions") : nullptr;
    std::cout << "  " << f.filename().string() << ": " << (acts ? acts->map.size() : 0) << " priced actions\n";
  }
  std::cout << "\nrun options (the run: section):\n" << run_schema()->describe(2);
  return kExitOk;
}

}  // namespace bpsim::cli
