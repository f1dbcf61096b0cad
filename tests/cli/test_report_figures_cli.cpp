// The report's per-op and run-level figures (docs/report.md, "Derived figures", "Stall
// cycles", "Roofline"), its config object and --no-op-entries, through `bpsim run` on specs
// and traces, with the expected values derived by hand from the workload's shapes and the
// presets' parameters.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/register.h"
#include "sim/engine/accelerator.h"
#include "tests/cli/cli_harness.h"
#include "tests/cli/csv_rows.h"
#include "tests/cli/report_json.h"

using namespace bpsim::test;

namespace {

/// One linear layer: a batch of 4 samples of 16 features to 8 outputs. Its forward GEMM is
/// M = 4, K = 16, N = 8: 4 × 16 × 8 = 512 MACs.
std::string one_fc_spec(const Scratch& s) {
  return s.file("one_fc.yaml",
                "name: one_fc\nbatch: 4\ninput: { shape: [16] }\nlayers:\n  - { kind: linear, out_features: 8 }\n");
}

/// A 4×4 weight-stationary array (16 MACs per cycle) at 1 GHz, PEs of the step's fp32, on one
/// DDR4-2400 channel. The run's name is quoted: it stays a string in the config object.
std::string small_array_config(const Scratch& s, const std::string& workload) {
  return s.file("array.yaml", preset_includes("systolic_32x32_int8.yaml") +
                                  "accelerator: { rows: 4, cols: 4, dtype: workload }\nworkload: " + workload +
                                  "\nrun: { name: \"007\" }\n");
}

size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  REQUIRE(it != header.end());
  return size_t(it - header.begin());
}

nlohmann::json run_report(const std::string& args, const std::string& out) {
  CliResult r = run_bpsim("run " + args + " -q --out " + out);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(out + "/report.json"));
}

}  // namespace

TEST_CASE("report figures: one GEMM on a 4x4 systolic array", "[cli][report][systolic]") {
  Scratch s("figures_gemm");
  const std::string cfg = small_array_config(s, "{ spec: " + one_fc_spec(s) + " }");
  const auto rep = run_report(cfg, s / "o");
  REQUIRE(rep["clock_ghz"] == 1.0);

  // The roof: 4 × 4 = 16 MACs per cycle × 1 GHz = 16 GMAC/s; DDR4-2400 moves one 64-byte
  // burst (x64 bus × BL8) per tBL = 4 tCK of 0.833 ns: 64 / 3.332e-9 = 19.2077 GB/s; the
  // ridge at 16 / 19.2077 = 0.833 MACs per DRAM byte.
  const auto& roof = rep["roofline"];
  CHECK(roof["peak_macs_per_cycle"] == 16.0);
  CHECK(roof["peak_gmacs_per_s"].get<double>() == Approx(16.0));
  CHECK(roof["peak_dram_gbps"].get<double>() == Approx(19.2077).epsilon(1e-5));
  CHECK(roof["ridge_macs_per_byte"].get<double>() == Approx(0.833).epsilon(1e-5));

  // The forward GEMM: 512 MACs (above) over its c cycles at 1 GHz (c ns).
  const auto fwd = op_of(rep, "linear0.fwd");
  const double c = fwd["cycles"].get<double>();
  const double dram = fwd["dram_read_bytes"].get<double>() + fwd["dram_write_bytes"].get<double>();
  const double onchip = fwd["onchip_read_bytes"].get<double>() + fwd["onchip_write_bytes"].get<double>();
  REQUIRE(fwd["macs_executed"] == 512);
  REQUIRE(c > 32);  // 512 / 16: the array's bound
  REQUIRE(dram > 0);
  CHECK(fwd["layer"] == "linear0");
  CHECK(fwd["utilisation"].get<double>() == Approx(512.0 / (16.0 * c)));
  CHECK(fwd["gmacs_per_s"].get<double>() == Approx(512.0 / c));  // MACs per ns = GMAC/s
  CHECK(fwd["dram_gbps"].get<double>() == Approx(dram / c));     // bytes per ns = GB/s
  CHECK(fwd["onchip_gbps"].get<double>() == Approx(onchip / c));
  CHECK(fwd["macs_per_dram_byte"].get<double>() == Approx(512.0 / dram));
  // Utilisation is throughput over the roof: 512 / c ÷ 16.
  CHECK(fwd["utilisation"].get<double>() == Approx(fwd["gmacs_per_s"].get<double>() / 16.0));
  // The systolic stall: every cycle the array did not compute (the DRAM waits, buffer and
  // drain stalls); with this tiny GEMM mostly the DRAM.
  CHECK(fwd["stall_cycles"] == fwd["cycles"].get<uint64_t>() - fwd["extra"]["array_cycles"].get<uint64_t>());
  CHECK(fwd["stall_cycles"].get<uint64_t>() >= fwd["extra"]["stall_cycles"].get<uint64_t>());

  // Every op names its layer; the run's stalls are its ops'; its figures are over its end time.
  uint64_t stalls = 0;
  for (const auto& o : rep["ops"]) {
    INFO(o["name"]);
    CHECK_FALSE(o["layer"].get<std::string>().empty());
    CHECK(o["name"].get<std::string>().rfind(o["layer"].get<std::string>() + ".", 0) == 0);
    stalls += o["stall_cycles"].get<uint64_t>();
  }
  const auto& t = rep["totals"];
  CHECK(t["stall_cycles"] == stalls);
  CHECK(t["utilisation"].get<double>() ==
        Approx(t["macs_executed"].get<double>() / (16.0 * t["cycles"].get<double>())));
  CHECK(t["dram_gbps"].get<double>() ==
        Approx((t["dram_read_bytes"].get<double>() + t["dram_write_bytes"].get<double>()) / t["cycles"].get<double>()));
  const auto& fp = rep["phases"]["forward"];
  CHECK(fp["utilisation"].get<double>() ==
        Approx(fp["macs_executed"].get<double>() / (16.0 * fp["cycles"].get<double>())));

  // ops.csv: the same figures, by column name, the model's mapping columns after them.
  const auto rows = csv_rows(slurp(s / "o/ops.csv"));
  REQUIRE(rows.size() == rep["ops"].size() + 1);
  const auto& h = rows[0];
  CHECK(column(h, "onchip_write_bytes") + 1 == column(h, "stall_cycles"));
  CHECK(column(h, "gmacs_per_s") + 1 == column(h, "map_family"));
  size_t row = 0;
  for (size_t i = 0; i < rep["ops"].size(); ++i)
    if (rep["ops"][i]["name"] == "linear0.fwd") row = i + 1;
  REQUIRE(row > 0);
  const auto& f = rows[row];
  CHECK(f[column(h, "layer")] == "linear0");
  CHECK(f[column(h, "stall_cycles")] == std::to_string(fwd["stall_cycles"].get<uint64_t>()));
  CHECK(std::stod(f[column(h, "utilisation")]) == Approx(512.0 / (16.0 * c)).epsilon(1e-5));
  CHECK(std::stod(f[column(h, "macs_per_dram_byte")]) == Approx(512.0 / dram).epsilon(1e-5));
}

TEST_CASE("report figures: --no-op-entries leaves the ops to ops.csv", "[cli][report]") {
  Scratch s("figures_noops");
  const std::string cfg = small_array_config(s, "{ spec: " + one_fc_spec(s) + " }");
  const auto whole = run_report(cfg, s / "whole");
  const auto csv_only = run_report(cfg + " --no-op-entries", s / "csv");
  CHECK_FALSE(csv_only.contains("ops"));
  CHECK(csv_only["op_count"] == whole["ops"].size());
  CHECK(csv_rows(slurp(s / "csv/ops.csv")).size() == whole["ops"].size() + 1);
  CHECK(slurp(s / "csv/ops.csv") == slurp(s / "whole/ops.csv"));
  // It is run.report_ops: none, as the echoed config says; the run's figures are the same.
  CHECK(csv_only["config"]["run"]["report_ops"] == "none");
  CHECK(csv_only["totals"] == whole["totals"]);
}

TEST_CASE("report figures: the config is an object in the config's order", "[cli][report]") {
  Scratch s("figures_config");
  const std::string cfg = small_array_config(s, "{ spec: " + one_fc_spec(s) + " }");
  const auto rep = run_report(cfg + " --set accelerator.cols=8", s / "o");
  const auto& c = rep["config"];
  REQUIRE(c.is_object());
  CHECK(c["accelerator"]["rows"] == 4);  // a number, as YAML reads it
  CHECK(c["accelerator"]["cols"] == 8);  // --set applied
  CHECK(c["accelerator"]["sram"]["double_buffer"] == true);
  CHECK(c["run"]["name"] == "007");  // quoted: a string
  CHECK(rep["run"]["name"] == "007");
  // The file's order: the includes' sections (accelerator, memory, energy), then workload and
  // run; sorted, energy would come before memory and run before workload.
  const std::string text = slurp(s / "o/report.json");
  const size_t at = text.find("\n  \"config\": {");
  REQUIRE(at != std::string::npos);
  const auto pos = [&](const char* key) { return text.find(std::string("\n    \"") + key + "\": ", at); };
  CHECK(pos("accelerator") < pos("memory"));
  CHECK(pos("memory") < pos("energy"));
  CHECK(pos("energy") < pos("workload"));
  CHECK(pos("workload") < pos("run"));
  // The same config written back out is a config bpsim runs (JSON is YAML), to the same figures.
  const std::string again = s.file("again.yaml", c.dump(2));
  const auto rerun = run_report(again, s / "again");
  CHECK(rerun["totals"] == rep["totals"]);
}

TEST_CASE("report figures: a trace op names its layer, or none", "[cli][report][trace]") {
  Scratch s("figures_trace");
  const std::string spec = one_fc_spec(s);
  CliResult r = run_bpsim("trace export " + spec + " -o " + (s / "step.jsonl"));
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::string text = slurp(s / "step.jsonl");
  const std::string field = "\"layer\":\"linear0\",";
  REQUIRE(text.find(field) != std::string::npos);
  for (size_t p; (p = text.find(field)) != std::string::npos;) text.erase(p, field.size());
  const std::string bare = s.file("bare.jsonl", text);
  for (const auto& [trace, layer] : {std::pair{s / "step.jsonl", "linear0"}, std::pair{bare, ""}}) {
    const auto rep = run_report(small_array_config(s, "{ trace: " + trace + " }") + " --set run.report_ops=all",
                                s / ("t" + std::string(layer)));
    CHECK(op_of(rep, "linear0.fwd")["layer"] == layer);
  }
}

TEST_CASE("report figures: pim stalls are the transfers its arithmetic waits for", "[cli][report][pim]") {
  Scratch s("figures_pim");
  const auto rep = run_report(std::string(BPSIM_SOURCE_DIR) + "/configs/examples/binary_mlp_pim.yaml", s / "o");
  // binary_mlp_pim: XNOR GEMMs in DRAM (their inputs and outputs cross the interface) and
  // sign, batch-norm and loss ops on the host (their arithmetic overlaps their traffic).
  uint64_t stalls = 0;
  for (const auto& o : rep["ops"]) {
    INFO(o["name"]);
    const auto& x = o["extra"];
    const uint64_t transfer = x["transfer_cycles"], host = x["host_cycles"];
    CHECK(o["stall_cycles"] == std::max(transfer, host) - host);
    CHECK(o["cycles"] == x["compute_cycles"].get<uint64_t>() + std::max(transfer, host));
    stalls += o["stall_cycles"].get<uint64_t>();
  }
  CHECK(rep["totals"]["stall_cycles"] == stalls);
  // An in-DRAM op waits for all of its transfers, a host op for those beyond its arithmetic.
  const auto in_dram = op_of(rep, "fc1.fwd"), host = op_of(rep, "fc1.sign");
  REQUIRE(in_dram["extra"]["host_work"] == false);
  REQUIRE(host["extra"]["host_work"] == true);
  CHECK(in_dram["stall_cycles"] == in_dram["extra"]["transfer_cycles"]);
  CHECK(in_dram["stall_cycles"].get<uint64_t>() > 0);
  CHECK(host["stall_cycles"] ==
        host["extra"]["transfer_cycles"].get<uint64_t>() - host["extra"]["host_cycles"].get<uint64_t>());
}

TEST_CASE("report figures: ops.csv writes every figure as printf's %.6g of report.json's value", "[cli][report]") {
  // ops.csv's figures are written by format_g6 (sim/core/float_text.h), report.json's by
  // nlohmann, which reads back to the same double. So each ops.csv cell must be C's own
  // snprintf("%.6g") of the report's value, and empty where the report has null. The LeNet-5
  // step on the systolic example gives figures over many magnitudes (pJ in the 1e8 range,
  // utilisation down to 1e-3, bandwidths), and the model's dram_vs_floor column (its extra
  // dram_floor.ratio) goes through the extra columns' path.
  Scratch s("figures_g6");
  const auto rep = run_report(std::string(BPSIM_SOURCE_DIR) + "/configs/examples/lenet5_train_systolic.yaml", s / "o");
  const auto rows = csv_rows(slurp(s / "o/ops.csv"));
  REQUIRE(rows.size() == rep["ops"].size() + 1);
  const auto& h = rows[0];
  const auto g6 = [](double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return std::string(text);
  };
  size_t numbers = 0, nulls = 0;
  for (size_t i = 0; i < rep["ops"].size(); ++i) {
    const auto& op = rep["ops"][i];
    const auto& cells = rows[i + 1];
    INFO(op["name"].get<std::string>());
    for (const char* k :
         {"energy_pj", "utilisation", "dram_gbps", "onchip_gbps", "macs_per_dram_byte", "gmacs_per_s"}) {
      INFO(k);
      const std::string& cell = cells[column(h, k)];
      if (op[k].is_null()) {
        CHECK(cell.empty());
        ++nulls;
      } else {
        CHECK(cell == g6(op[k].get<double>()));
        ++numbers;
      }
    }
    const nlohmann::json::json_pointer ratio("/extra/dram_floor/ratio");
    if (op.contains(ratio) && op[ratio].is_number_float()) {
      CHECK(cells[column(h, "dram_vs_floor")] == g6(op[ratio].get<double>()));
      ++numbers;
    }
  }
  // 42 ops × 6 figures, and a ratio for each GEMM-like op: most of them numbers.
  CHECK(numbers + nulls >= 6 * rep["ops"].size());
  CHECK(numbers > 200);
}

TEST_CASE("report figures: ops.csv's model columns are report.json's op extras at their pointers", "[cli][report]") {
  // The systolic model's nine ops.csv columns and the JSON pointers into an op's extra they
  // read, from its declaration (models/systolic/register.cpp). ops.csv reads each column in
  // one walk from where the previous column's path parts (report.cpp, ColumnValues);
  // report.json's extra is the op's own with its shared extra merged in, read here by json's
  // own pointer lookup. A string is written as it is, a float as %.6g, anything else as its
  // JSON text, and an absent value as an empty cell.
  bpsim::register_builtin_models();
  const bpsim::AcceleratorKind* systolic = bpsim::Registry::instance().find("systolic");
  REQUIRE(systolic);
  const bpsim::CsvColumns& columns = systolic->csv_columns;
  REQUIRE(columns.size() == 9);
  Scratch s("model_columns");
  const auto rep = run_report(std::string(BPSIM_SOURCE_DIR) + "/configs/examples/lenet5_train_systolic.yaml", s / "o");
  const auto rows = csv_rows(slurp(s / "o/ops.csv"));
  REQUIRE(rows.size() == rep["ops"].size() + 1);
  const auto& h = rows[0];
  size_t filled = 0, empty = 0;
  for (size_t i = 0; i < rep["ops"].size(); ++i) {
    const auto& op = rep["ops"][i];
    INFO(op["name"].get<std::string>());
    for (const bpsim::CsvColumn& c : columns) {
      INFO(c.header);
      const std::string& cell = rows[i + 1][column(h, c.header)];
      const nlohmann::json::json_pointer p(c.extra_pointer);
      if (!op.contains("extra") || !op["extra"].contains(p)) {
        CHECK(cell.empty());
        ++empty;
        continue;
      }
      const auto& v = op["extra"][p];
      std::string expected = v.is_string() ? v.get<std::string>() : v.dump();
      if (v.is_number_float()) {
        char text[32];
        std::snprintf(text, sizeof text, "%.6g", v.get<double>());
        expected = text;
      }
      CHECK(cell == expected);
      ++filled;
    }
  }
  // GEMM-like ops have all nine, the others none: both kinds are in a LeNet-5 step.
  CHECK(filled >= 9 * 10);
  CHECK(empty >= 9 * 10);
}
