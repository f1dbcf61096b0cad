// Systems of accelerators through the command line (docs/system.md): a `system:` config run
// with `bpsim run`, its report, ops.csv and the devices' own reports; placement by hand, by
// the scheduler and split; a one-device system against the one-device run; bad `system:` input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/cli/cli_harness.h"

using namespace bpsim::test;
namespace fs = std::filesystem;

namespace {

/// configs/arch/systolic_32x32_bf16.yaml's array, as a device's accelerator section.
const char* const kArray =
    "{kind: systolic, rows: 32, cols: 32, stages: 1, dataflow: ws, timing: overlapped, clock_ghz: 1.0, "
    "dtype: bf16, sram: {input_kib: 128, weight_kib: 128, output_kib: 32, double_buffer: true, "
    "bytes_per_cycle: 128}}";

/// A 16-8-4 MLP at batch 4 in bf16, fc1 on device `a` and fc2 (and the loss: the default) on `b`,
/// two arrays on a switch with α = 100 ns and β = 1 GB/s, 8 pJ per byte per hop.
std::string two_device_config(const std::string& placement = "{mode: manual, default: b}") {
  return preset_includes() + "system:\n  devices:\n    a: {accelerator: " + kArray +
         "}\n    b: {accelerator: " + kArray +
         "}\n"
         "  fabric: {topology: switch, link: {bandwidth_gbps: 1, latency_ns: 100, energy_pj_per_byte: 8}}\n"
         "  placement: " +
         placement +
         "\n"
         "workload:\n  name: mlp\n  dtype: bf16\n  batch: 4\n  input: {shape: [16]}\n  optimizer: sgd\n"
         "  layers:\n    - {kind: linear, name: fc1, out_features: 8, device: a}\n"
         "    - {kind: linear, name: fc2, out_features: 4, device: b}\n"
         "run: {seed: 1}\n";
}

nlohmann::json run_json(const Scratch& s, const std::string& config, const std::string& out,
                        const std::string& extra = "") {
  const CliResult r = run_bpsim("run " + shell_quote(config) + " --quiet --out " + shell_quote(s / out) + extra);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / (out + "/report.json")));
}

}  // namespace

TEST_CASE("system cli: two devices by hand carry fc1's output and its gradient over the switch", "[cli][system]") {
  Scratch s("system_two");
  const std::string cfg = s.file("two.yaml", two_device_config());
  const CliResult r = run_bpsim("run " + cfg + " --out " + s / "out");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("on a system of 2 devices (switch fabric), placement manual"));
  const nlohmann::json rep = nlohmann::json::parse(slurp(s / "out/report.json"));
  const nlohmann::json& sys = rep["system"];
  CHECK(sys["placement"] == "manual");
  // What crosses: fc1's output (4 × 8 bf16 = 64 B) forward to fc2 on b, and its gradient
  // (64 B) back to fc1's weight gradient on a; fc2's weight gradient reads fc1's output where
  // it already arrived. Each: d → sw → d, 2 hops: 2 · 100 ns + 64 B / 1 GB/s = 264 ns,
  // 64 B × 2 hops × 8 pJ/B = 1024 pJ.
  REQUIRE(sys["transfers"].size() == 2);
  CHECK(sys["transfer_bytes"] == 128);
  const nlohmann::json& fwd = sys["transfers"][0];
  CHECK(fwd["src"] == "a");
  CHECK(fwd["dst"] == "b");
  CHECK(fwd["bytes"] == 64);
  CHECK(fwd["hops"] == 2);
  CHECK(fwd["end_s"].get<double>() - fwd["start_s"].get<double>() == Approx(264e-9));
  CHECK(fwd["energy_pj"].get<double>() == Approx(1024));
  CHECK(sys["transfers"][1]["src"] == "b");
  CHECK(sys["transfers"][1]["dst"] == "a");
  // Links: a->sw and sw->b carry the forward 64 B, b->sw and sw->a the backward 64 B.
  REQUIRE(sys["links"].size() == 4);
  double link_pj = 0;
  for (const auto& l : sys["links"]) {
    CHECK(l["bytes"] == 64);
    link_pj += l["energy_pj"].get<double>();
  }
  CHECK(link_pj == Approx(4 * 64 * 8.0));
  CHECK(sys["link_energy_pj"].get<double>() == Approx(link_pj));
  // Energy = devices + links; each device's figure is its own report's, plus its leakage (its
  // parts' and its own DRAM's: Σ "*.leakage" over its own seconds) while it waits for the rest
  // of the step.
  double dev_pj = 0;
  const double step = sys["step_s"].get<double>();
  for (const auto& d : sys["devices"]) {
    const nlohmann::json own =
        nlohmann::json::parse(slurp(s / ("out/devices/" + d["name"].get<std::string>() + "/report.json")));
    double leak_pj = 0;
    for (const auto& [k, v] : own["energy_breakdown_pj"].items())
      if (k.size() > 8 && k.substr(k.size() - 8) == ".leakage") leak_pj += v.get<double>();
    const double own_s = own["totals"]["seconds"].get<double>();
    CHECK(own_s < step);
    CHECK(d["energy_pj"].get<double>() ==
          Approx(own["totals"]["energy_pj"].get<double>() + leak_pj / own_s * (step - own_s)));
    CHECK(d["ops"] == own["ops"].size());
    CHECK(d["utilisation"].get<double>() <= 1.0);
    dev_pj += d["energy_pj"].get<double>();
  }
  CHECK(sys["energy_pj"].get<double>() == Approx(dev_pj + link_pj));
  // The critical path ends with the op that ends last, at the step's end.
  REQUIRE_FALSE(sys["critical_path"].empty());
  CHECK(sys["critical_path"].back()["end_s"].get<double>() == Approx(sys["step_s"].get<double>()));
  // ops.csv: one row per op, with its device.
  const std::string csv = slurp(s / "out/ops.csv");
  CHECK(csv.rfind("name,phase,kind,device,start_s,end_s,", 0) == 0);
  CHECK(size_t(std::count(csv.begin(), csv.end(), '\n')) == sys["op_count"].get<size_t>() + 1);
  CHECK_THAT(csv, Catch::Contains(",a,") && Catch::Contains(",b,"));
  // Same config and seed: the same bytes.
  const CliResult again = run_bpsim("run " + cfg + " --quiet --out " + s / "again");
  REQUIRE(again.code == 0);
  CHECK(slurp(s / "again/report.json") == slurp(s / "out/report.json"));
  CHECK(slurp(s / "again/ops.csv") == csv);
}

TEST_CASE("system cli: a one-device system is the one-device run of the same step", "[cli][system]") {
  Scratch s("system_one");
  const std::string body =
      "workload:\n  name: mlp\n  dtype: bf16\n  batch: 4\n  input: {shape: [16]}\n  optimizer: sgd\n"
      "  layers:\n    - {kind: linear, name: fc1, out_features: 8}\n    - {kind: linear, name: fc2, "
      "out_features: 4}\nrun: {seed: 1}\n";
  const std::string sys_cfg =
      s.file("sys.yaml", preset_includes() + "system:\n  devices:\n    a: {accelerator: " + kArray + "}\n" + body);
  const std::string one_cfg = s.file("one.yaml", preset_includes() + "accelerator: " + kArray + "\n" + body);
  const nlohmann::json sys = run_json(s, sys_cfg, "sys")["system"];
  const nlohmann::json one = run_json(s, one_cfg, "one");
  // The device runs its ops one after another, as the one-device model does: the step is its
  // busy time, and both equal the one-device run's seconds and energy.
  CHECK(sys["transfers"].empty());
  CHECK(sys["step_s"].get<double>() == Approx(one["totals"]["seconds"].get<double>()));
  CHECK(sys["devices"][0]["busy_s"].get<double>() == Approx(one["totals"]["seconds"].get<double>()));
  CHECK(sys["energy_pj"].get<double>() == Approx(one["totals"]["energy_pj"].get<double>()));
  CHECK(sys["devices"][0]["utilisation"].get<double>() == Approx(1.0));
}

TEST_CASE("system cli: auto, split and single placements of the two-device step", "[cli][system]") {
  Scratch s("system_modes");
  const nlohmann::json joint =
      run_json(s, s.file("auto.yaml", two_device_config("{mode: auto, default: a}")), "auto")["system"];
  const nlohmann::json split =
      run_json(s, s.file("split.yaml", two_device_config("{mode: split, default: a}")), "split")["system"];
  const nlohmann::json single =
      run_json(s, s.file("single.yaml", two_device_config("{mode: single, default: a}")), "single")["system"];
  CHECK(joint["placement"] == "auto");
  CHECK(split["placement"] == "split");
  // single: every op on a, nothing carried, b idle but listed.
  CHECK(single["transfers"].empty());
  CHECK(single["devices"][1]["ops"] == 0);
  CHECK(single["devices"][0]["ops"] == single["op_count"]);
  // Two identical arrays and a step whose ops each depend on the one before: the joint
  // scheduler finds nothing to run in parallel that is worth a transfer (the cheapest transfer,
  // 2 · 100 ns, is longer than most of these ops), so it keeps the step on one device, no
  // slower than single.
  CHECK(joint["transfers"].size() <= split["transfers"].size());
  CHECK(joint["step_s"].get<double>() <= split["step_s"].get<double>() * (1 + 1e-12));
}

TEST_CASE("system cli: bpsim validate accepts a system config, compare refuses one", "[cli][system]") {
  Scratch s("system_validate");
  const std::string cfg = s.file("two.yaml", two_device_config());
  const CliResult v = run_bpsim("validate " + cfg);
  INFO(v.err);
  CHECK(v.code == 0);
  CHECK_THAT(v.out, Catch::Contains("ok (system of 2 devices, 2 with ops; workload mlp:"));
  const CliResult c = run_bpsim("compare " + cfg + " --policies none,checkpoint --out " + s / "cmp");
  CHECK(c.code == 2);
  CHECK_THAT(c.err, Catch::Contains("compare does not run configs with a system: section"));
}

TEST_CASE("system cli: bpsim validate makes each device's model checks on the ops placed there", "[cli][system]") {
  // The heterogeneous example with its PIM device on the RTL backend: the binary layers
  // placed there have no charge-domain accumulate (a bit-serial readout), which the PIM model
  // refuses when it is built for them. validate builds each device's model for its ops, as a
  // run does before simulating, and refuses with the run's own message.
  Scratch s("system_validate_models");
  const std::string cfg = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/hetero_binary_cnn.yaml";
  const std::string rtl = " --set system.devices.pim.accelerator.backend=rtl";
  const CliResult v = run_bpsim("validate " + cfg + rtl);
  CHECK(v.code == 2);
  CHECK_THAT(v.err, Catch::Contains("device 'pim': accelerator.backend: rtl"));
  const CliResult r = run_bpsim("run " + cfg + rtl + " --out " + s / "out");
  CHECK(r.code == 2);
  CHECK(r.err == v.err);
  const CliResult ok = run_bpsim("validate " + cfg);
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("ok (system of 2 devices, 2 with ops;"));
}

TEST_CASE("system cli: a sweep tabulates a system's step, its DRAM bytes and its links", "[cli][system][sweep]") {
  Scratch s("system_sweep");
  s.file("two.yaml", two_device_config());
  const std::string sweep =
      s.file("sweep.yaml", "base: two.yaml\naxes:\n  system.fabric.link.latency_ns: [100, 200]\n");
  const CliResult w = run_bpsim("sweep " + sweep + " --quiet --out " + s / "sw");
  INFO(w.err);
  REQUIRE(w.code == 0);
  std::vector<nlohmann::json> rows;
  std::istringstream lines(slurp(s / "sw/results.jsonl"));
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  REQUIRE(rows.size() == 2);
  std::sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x["index"] < y["index"]; });
  for (const nlohmann::json& row : rows) {
    CHECK(row["status"] == "ok");
    // Each point's row is its report's step: the same run made by hand gives the same figures.
    const int latency = row["axes"]["system.fabric.link.latency_ns"].get<int>();
    const nlohmann::json sys = run_json(s, s / "two.yaml", "one" + std::to_string(latency),
                                        " --set system.fabric.link.latency_ns=" + std::to_string(latency))["system"];
    CHECK(row["totals"]["seconds"] == sys["step_s"]);
    CHECK(row["totals"]["energy_pj"] == sys["energy_pj"]);
    uint64_t read = 0;
    for (const auto& d : sys["devices"]) read += d["dram_read_bytes"].get<uint64_t>();
    CHECK(row["totals"]["dram_read_bytes"] == read);
    CHECK(row["system"]["devices"] == 2);
    // Two transfers of 64 B (fc1's output, its gradient), each over 2 links (d → sw → d):
    // 256 link bytes, 2 × 64 B × 2 hops × 8 pJ/B = 2048 pJ.
    CHECK(row["system"]["link_bytes"] == 256);
    CHECK(row["system"]["link_energy_pj"].get<double>() == Approx(2048));
  }
  // Both transfers are on the step's chain (fc2 waits for fc1's output, fc1's weight gradient
  // for fc2's input gradient): 100 ns more per hop is 2 transfers × 2 hops × 100 ns = 400 ns.
  CHECK(rows[1]["totals"]["seconds"].get<double>() - rows[0]["totals"]["seconds"].get<double>() ==
        Approx(400e-9).margin(1e-15));
  // results.csv: the one-device columns that mean the same for a system are filled, cycles
  // (devices' clocks differ) left empty.
  const std::string csv = slurp(s / "sw/results.csv");
  CHECK(csv.rfind("index,hash,status,system.fabric.link.latency_ns,cycles,seconds,energy_pj,", 0) == 0);
  CHECK_THAT(csv, Catch::Contains(",ok,100,,") && Catch::Contains(",ok,200,,"));
}

TEST_CASE("system cli: bad system input is refused with file, line and key path", "[cli][system]") {
  Scratch s("system_bad");
  struct Case {
    std::string set, says;
  };
  const std::vector<Case> cases = {
      {"system.devces=1", "system.devces: unknown key (did you mean 'devices'?)"},
      {"system.fabric.topology=star", "system.fabric.topology"},
      {"system.fabric.dims=[2,2]", "dims apply to torus2d and mesh, not to switch"},
      {"system.fabric.topology=torus2d", "torus2d needs dims: [rows, cols]"},
      {"system.fabric.link.bandwidth_gbps=0", "system.fabric.link.bandwidth_gbps"},
      {"system.placement.default=c", "no device named 'c' (devices: a, b)"},
      {"system.placement.mode=best", "system.placement.mode"},
      {"system.devices.a.count=0", "system.devices.a.count: must be in [1, 1048576]"},
      {"system.devices.b.memory={shared_with: c}", "system.devices.b.memory.shared_with"},
      {"system.devices.b.memory={shared_with: b}", "cannot share its memory with itself"},
      {"system.devices.a.colour=red", "system.devices.a.colour: unknown key"},
      {"system.devices.a.accelerator.kind=gpu", "system.devices.a.accelerator.kind: unknown accelerator 'gpu'"},
      {"system.devices.a.accelerator.rows=0", "system.devices.a.accelerator.rows"},
      {"accelerator.kind=systolic", "names each device's accelerator under system.devices.NAME.accelerator"},
      {"system.parallel.schedule=zigzag", "system.parallel.schedule"},
  };
  const std::string cfg = s.file("two.yaml", two_device_config());
  for (const Case& c : cases) {
    const CliResult r = run_bpsim("run " + cfg + " --set " + shell_quote(c.set) + " --out " + s / "out");
    INFO(c.set << "\n" << r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.says));
  }
  // The same in the file: its line and column.
  std::string typo = two_device_config();
  typo.replace(typo.find("  placement:"), 12, "  placment:");
  const CliResult t = run_bpsim("run " + s.file("typo.yaml", typo) + " --out " + s / "out1");
  CHECK(t.code == 2);
  CHECK_THAT(t.err, Catch::Contains("typo.yaml:7:3: system.placment: unknown key (did you mean 'placement'?)"));
  // A layer naming a device the system does not have: the spec's line and the layer's key.
  std::string text = two_device_config();
  text.replace(text.find("device: b}"), 10, "device: c}");
  const CliResult r = run_bpsim("run " + s.file("bad_layer.yaml", text) + " --out " + s / "out2");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad_layer.yaml:"));
  CHECK_THAT(r.err, Catch::Contains("workload.layers.fc2.device: no device named 'c' (system.devices: a, b)"));
  // More than one device and no fabric.
  std::string nofab = two_device_config();
  const size_t at = nofab.find("  fabric:");
  nofab.erase(at, nofab.find('\n', at) - at + 1);
  const CliResult f = run_bpsim("run " + s.file("nofab.yaml", nofab) + " --out " + s / "out3");
  CHECK(f.code == 2);
  CHECK_THAT(f.err, Catch::Contains("missing required key 'fabric' (2 devices need links between them)"));
  CHECK_FALSE(fs::exists(s / "out3/report.json"));
}

TEST_CASE("system cli: devices with a count, a shared memory and a torus", "[cli][system]") {
  Scratch s("system_count");
  // Four arrays (a0…a3) on a 2 × 2 torus; fc1 on the default a0, fc2 on a3 (row 1, col 1):
  // x first, then y: a0 → a1 → a3, 2 hops.
  std::string text = preset_includes() + "system:\n  devices:\n    a: {accelerator: " + kArray +
                     ", count: 4}\n"
                     "  fabric: {topology: torus2d, dims: [2, 2], link: {bandwidth_gbps: 1, latency_ns: 100}}\n"
                     "  placement: {mode: manual}\n"
                     "workload:\n  name: mlp\n  dtype: bf16\n  batch: 4\n  input: {shape: [16]}\n  optimizer: sgd\n"
                     "  layers:\n    - {kind: linear, name: fc1, out_features: 8}\n"
                     "    - {kind: linear, name: fc2, out_features: 4, device: a3}\n"
                     "run: {seed: 1}\n";
  const nlohmann::json sys = run_json(s, s.file("torus.yaml", text), "torus")["system"];
  REQUIRE(sys["devices"].size() == 4);
  CHECK(sys["devices"][3]["name"] == "a3");
  REQUIRE_FALSE(sys["transfers"].empty());
  CHECK(sys["transfers"][0]["src"] == "a0");
  CHECK(sys["transfers"][0]["dst"] == "a3");
  CHECK(sys["transfers"][0]["hops"] == 2);
  CHECK(sys["fabric"]["topology"] == "torus2d");
  // a3 on a0's memory: nothing crosses a link, and the two take turns at the one DRAM (their
  // busy times add up to at most the step).
  const nlohmann::json shared = run_json(s, s.file("shared.yaml", two_device_config()), "shared",
                                         " --set 'system.devices.b.memory={shared_with: a}'")["system"];
  CHECK(shared["transfers"].empty());
  CHECK(shared["devices"][1]["memory_of"] == "a");
  CHECK(shared["devices"][0]["busy_s"].get<double>() + shared["devices"][1]["busy_s"].get<double>() <=
        shared["step_s"].get<double>() * (1 + 1e-12));
}

TEST_CASE("system cli: auto placement prices a device without an estimate by its own model", "[cli][system]") {
  // The heterogeneous example under auto: the systolic kind gives an op-cost estimate, the PIM
  // kind none, so the scheduler prices each op on the PIM device by its cycles when that
  // device's model runs the whole step (docs/system.md "Placement and scheduling"): the PIM
  // device is a candidate, and takes ops.
  Scratch s("system_auto_priced");
  const std::string cfg = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/hetero_binary_cnn.yaml";
  const CliResult a = run_bpsim("run " + cfg + " --set system.placement.mode=auto --out " + s / "auto");
  INFO(a.err);
  REQUIRE(a.code == 0);
  CHECK_THAT(a.err, !Catch::Contains("warning"));
  const nlohmann::json rep = nlohmann::json::parse(slurp(s / "auto/report.json"));
  size_t on_pim = 0;
  for (const nlohmann::json& d : rep["system"]["devices"]) {
    if (d["name"] == "pim") on_pim = d["ops"].get<size_t>();
    // How each was priced, in the report: the array by its kind's estimate, pim by its own run.
    CHECK(d["priced_by"] == (d["name"] == "pim" ? "own_run" : "estimate"));
  }
  CHECK(on_pim > 0);
  // A PIM device whose model refuses the step (backend rtl on a step with no charge-domain
  // accumulate: a bit-serial readout) cannot be priced: every op goes to the array, and the
  // console says why the PIM device ran nothing.
  const CliResult r = run_bpsim("run " + cfg +
                                " --set system.placement.mode=auto --set system.devices.pim.accelerator.backend=rtl "
                                "--out " +
                                s / "rtl");
  REQUIRE(r.code == 0);
  CHECK_THAT(r.err, Catch::Contains("warning: placement auto: device 'pim' (pim) cannot be priced: its model "
                                    "refuses the whole step (device 'pim': accelerator.backend: rtl"));
  CHECK_THAT(r.err, !Catch::Contains("device 'sa'"));
  const nlohmann::json refused = nlohmann::json::parse(slurp(s / "rtl/report.json"));
  for (const nlohmann::json& d : refused["system"]["devices"])
    if (d["name"] == "pim") {
      CHECK(d["ops"] == 0);
      CHECK(d["priced_by"] == "refused");
    }
  // Two such devices (count: 2) are priced once; each is named in a warning, the second as
  // configured like the first.
  const CliResult two = run_bpsim("run " + cfg +
                                  " --set system.placement.mode=auto --set system.devices.pim.accelerator.backend=rtl "
                                  "--set system.devices.pim.count=2 --out " +
                                  s / "two");
  REQUIRE(two.code == 0);
  CHECK_THAT(two.err, Catch::Contains("device 'pim0' (pim) cannot be priced: its model refuses the whole step"));
  CHECK_THAT(two.err, Catch::Contains("device 'pim1' (pim) cannot be priced: it is configured as 'pim0', whose model "
                                      "refuses the whole step"));
  // Manual placement prices nothing, and says nothing.
  const CliResult m = run_bpsim("run " + cfg + " --out " + s / "manual");
  REQUIRE(m.code == 0);
  CHECK_THAT(m.err, !Catch::Contains("warning"));
  const nlohmann::json manual = nlohmann::json::parse(slurp(s / "manual/report.json"));
  for (const nlohmann::json& d : manual["system"]["devices"]) CHECK_FALSE(d.contains("priced_by"));
}
