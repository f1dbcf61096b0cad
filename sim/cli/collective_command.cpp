// `bpsim collective`: what one collective costs on a fabric (docs/system.md "Collectives"),
// without a config or a workload: the figure a system run charges for it, scriptable
// (scripts/compare_astrasim.sh).
#include <fmt/format.h>
#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/cli/commands.h"
#include "sim/core/error.h"
#include "sim/core/units.h"
#include "sim/system/fabric.h"

namespace po = boost::program_options;

namespace bpsim::cli {

namespace {

/// The value of `option` among the names of `table`, or an InputError listing them.
template <class Table>
auto named(const Table& table, const std::string& option, const std::string& given) {
  std::string names;
  for (const auto& e : table) {
    if (given == e.name) return e.value;
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  throw InputError("--" + option + ": '" + given + "' is not one of " + names);
}

/// A comma-separated list of device indices ("4,4", "0,1,3,2").
std::vector<uint32_t> index_list(const std::string& option, const std::string& text) {
  std::vector<uint32_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    unsigned long v = 0;
    try {
      v = std::stoul(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || item[0] == '-' || v > UINT32_MAX)
      throw InputError(fmt::format("--{}: '{}' is not a whole number (expected a comma-separated list)", option, item));
    out.push_back(static_cast<uint32_t>(v));
  }
  if (out.empty()) throw InputError("--" + option + ": expected a comma-separated list of whole numbers");
  return out;
}

const char* const kHelp =
    "usage: bpsim collective --devices N --bytes B --bandwidth-gbps X [options]\n"
    "\n"
    "What one collective costs on a fabric of identical links (docs/system.md \"Collectives\"):\n"
    "each step's messages take their routes at once and serialise on the directed links they\n"
    "share; a step costs α · (hops of its longest route) + (bytes on its most loaded link) / β.\n"
    "The same figures a system: run charges for a collective on its system.fabric.\n";

}  // namespace

int cmd_collective(int argc, char* argv[]) {
  bool help = false, json = false;
  std::string topology = "ring", op = "all_reduce", algorithm = "ring", dims, group_text;
  double devices = 0, bytes = -1, gbps = 0, latency_ns = 0, pj_per_byte = 0, inner = 0;
  po::options_description d("options");
  d.add_options()("help,h", po::bool_switch(&help), "show this help")(
      "topology", po::value(&topology), "ring (default), switch, torus2d or mesh")("devices", po::value(&devices),
                                                                                   "number of devices on the fabric")(
      "dims", po::value(&dims), "torus2d, mesh: ROWS,COLS (ROWS · COLS = devices; device = row · COLS + col)")(
      "op", po::value(&op), "all_reduce (default), reduce_scatter, all_gather or broadcast")(
      "algorithm", po::value(&algorithm), "ring (default), tree (binomial) or hierarchical")(
      "inner-group", po::value(&inner), "hierarchical: devices per inner group (divides the group)")(
      "bytes", po::value(&bytes), "each device's buffer n, in bytes (1e8 is accepted)")(
      "group", po::value(&group_text), "the devices taking part, in ring order (default: 0,1,…,N−1)")(
      "bandwidth-gbps", po::value(&gbps), "one link direction's bandwidth, GB/s (1 GB/s = 1e9 B/s)")(
      "latency-ns", po::value(&latency_ns), "one hop's latency α, ns (default 0)")(
      "energy-pj-per-byte", po::value(&pj_per_byte), "energy of a byte over one hop, pJ (default 0)")(
      "json", po::bool_switch(&json), "print the figures as JSON (seconds, bytes, pJ) instead");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, d), vm);
  po::notify(vm);
  if (help) {
    std::cout << kHelp << "\n" << d;
    return kExitOk;
  }
  auto whole = [](const char* option, double v, double lo, double hi) {
    if (!(v >= lo && v <= hi) || v != std::floor(v))
      throw InputError(std::string("--") + option + ": expected a whole number in [" + units::exact(lo) + ", " +
                       units::exact(hi) + "], got " + units::exact(v));
    return v;
  };
  if (!vm.count("devices")) throw InputError("--devices: required (the number of devices on the fabric)");
  if (!vm.count("bytes")) throw InputError("--bytes: required (each device's buffer, in bytes)");
  if (!vm.count("bandwidth-gbps")) throw InputError("--bandwidth-gbps: required (one link direction, GB/s)");

  system::Fabric f;
  f.topology = named(system::kTopologyNames, "topology", topology);
  f.devices = static_cast<uint32_t>(whole("devices", devices, 1, 1 << 20));
  if (!(gbps > 0)) throw InputError("--bandwidth-gbps: expected a bandwidth above 0, got " + units::exact(gbps));
  if (!(latency_ns >= 0)) throw InputError("--latency-ns: expected 0 or more, got " + units::exact(latency_ns));
  if (!(pj_per_byte >= 0))
    throw InputError("--energy-pj-per-byte: expected 0 or more, got " + units::exact(pj_per_byte));
  f.link = {gbps * 1e9, latency_ns * 1e-9, pj_per_byte};
  const bool grid = f.topology == system::Topology::torus2d || f.topology == system::Topology::mesh;
  if (grid) {
    if (dims.empty()) throw InputError("--dims: required for " + topology + " (ROWS,COLS)");
    const std::vector<uint32_t> rc = index_list("dims", dims);
    if (rc.size() != 2 || uint64_t{rc[0]} * rc[1] != f.devices)
      throw InputError("--dims: expected ROWS,COLS with ROWS · COLS = " + std::to_string(f.devices) + " devices, got " +
                       dims);
    f.rows = rc[0];
    f.cols = rc[1];
  } else if (!dims.empty()) {
    throw InputError("--dims: applies to torus2d and mesh, not to " + topology);
  } else {
    f.cols = f.devices;
  }
  const system::Collective c = named(system::kCollectiveNames, "op", op);
  const system::Algorithm a = named(system::kAlgorithmNames, "algorithm", algorithm);
  const uint64_t n = static_cast<uint64_t>(whole("bytes", bytes, 0, 9e15));
  std::vector<uint32_t> group;
  if (group_text.empty())
    for (uint32_t i = 0; i < f.devices; ++i) group.push_back(i);
  else group = index_list("group", group_text);
  uint32_t inner_group = 0;
  if (a == system::Algorithm::hierarchical) {
    if (!vm.count("inner-group")) throw InputError("--inner-group: required by the hierarchical algorithm");
    inner_group = static_cast<uint32_t>(whole("inner-group", inner, 1, 1 << 20));
  } else if (vm.count("inner-group")) {
    throw InputError("--inner-group: applies to the hierarchical algorithm, not to " + algorithm);
  }

  system::CollectiveCost cost;
  try {
    cost = system::collective(f, c, a, n, group, inner_group);
  } catch (const std::invalid_argument& e) {
    throw InputError(std::string("collective: ") + e.what());
  }
  if (json) {
    nlohmann::json j = {{"topology", topology},       {"devices", f.devices}, {"op", op},
                        {"algorithm", algorithm},     {"bytes", n},           {"group_size", group.size()},
                        {"seconds", cost.seconds},    {"steps", cost.steps},  {"link_bytes", cost.link_bytes},
                        {"energy_pj", cost.energy_pj}};
    if (grid) j["dims"] = {f.rows, f.cols};
    if (inner_group) j["inner_group"] = inner_group;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << op << " of " << units::bytes(static_cast<double>(n)) << " by " << algorithm
            << (inner_group ? " (inner groups of " + std::to_string(inner_group) + ")" : "") << " over " << group.size()
            << " of " << f.devices << " devices on a " << topology
            << (grid ? " " + std::to_string(f.rows) + "×" + std::to_string(f.cols) : "") << " ("
            << units::bandwidth(f.link.bandwidth_bytes_per_s) << ", " << units::seconds(f.link.latency_s)
            << " a hop per link)\n";
  std::cout << "  time        " << units::seconds(cost.seconds, 4) << "\n";
  std::cout << "  steps       " << cost.steps << "\n";
  std::cout << "  link bytes  " << units::bytes(static_cast<double>(cost.link_bytes), 4)
            << " (summed over every link crossing)\n";
  std::cout << "  energy      " << units::energy_pj(cost.energy_pj, 4) << "\n";
  return kExitOk;
}

}  // namespace bpsim::cli
