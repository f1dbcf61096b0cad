// report.json assembly: pricing, phase sums, totals, CSV — records fed to the ReportBuilder
// as the engine does, with numbers chosen so every expected value is a hand calculation.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/core/config_node.h"
#include "sim/core/stats.h"
#include "sim/report/report.h"

using namespace bpsim;

namespace {
/// The fake accelerator's energy vocabulary.
struct ToyActions {
  Vocabulary vocabulary{"toy"};
  const Action mac = vocabulary.add("mac", "one MAC");
  const Action gated = vocabulary.add("gated", "one gated MAC");
  Vocabulary units{""};
  const Action toy = units.add("toy", "the whole toy");
};
const ToyActions kToy;

/// Two ops' records, as a model's thread would send them to the record sink.
std::vector<OpRecord> toy_records() {
  OpRecord a;
  a.name = "fc1.fwd";
  a.phase = "forward";
  a.kind = "gemm";
  a.layer = "fc1";
  a.cycles = 100;
  a.stall_cycles = 20;
  a.macs = 4000;
  a.macs_executed = 4000;
  a.dram_read_bytes = 64;
  a.actions[kToy.mac] = 1000;
  // Model-specific figures, nested and with a tiny double: the spill must print them as
  // the JSON library does.
  a.extra = {{"stall_cycles", 3}, {"utilisation", 0.1234567}, {"nested", {{"x", 1e-7}, {"tag", "a\"b"}}}};
  OpRecord b = a;
  b.name = "fc1.dx, masked";  // a comma: the CSV must quote it
  b.phase = "backward_data";
  b.start_cycle = 100;
  b.cycles = 300;
  b.macs_executed = 1000;
  b.macs_gated = 3000;
  b.stall_cycles = 0;
  b.actions[kToy.gated] = 3000;
  return {a, b};
}

/// The toy run's clock and end: 1 GHz, 400 cycles (its two ops end at cycle 400).
constexpr double kGhz = 1.0;
constexpr uint64_t kEndCycle = 400;
/// The toy's peaks: 64 MACs per cycle, 8 GB/s of DRAM (8 bytes per cycle at 1 GHz).
const Rates kRates{kGhz, 64.0, 8e9};

/// The toy model's stats: one counter registered by reference, read when the report is built.
struct ToyStats {
  uint64_t folds = 7;
  StatGroup stats;
  ToyStats() { stats.child("toy").add("fold_count", folds, "folds run"); }
};

/// The report as the engine assembles it: each record added as its op finishes, then finish.
nlohmann::json report_of(const ReportInputs& in, const std::vector<OpRecord>& records = toy_records()) {
  ReportBuilder b(in.energy, kRates);
  for (const OpRecord& r : records) b.add(r);
  return b.finish(in);
}

}  // namespace

TEST_CASE("report: prices actions, sums phases and totals", "[core][report]") {
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  table.set_price(kToy.gated, 0.01, "test");
  table.set_leakage(kToy.toy, 1.0, "test");
  table.charge_leakage_of({{"toy", kToy.toy}});
  ToyStats toy;
  workload::MemorySummary mem{"checkpoint", 1000, 5000};
  nlohmann::json r =
      report_of({"toy", kEndCycle, nullptr, table, toy.stats, &mem, "t", 3, nlohmann::ordered_json::object()});

  CHECK(r["schema"] == "bpsim-report-1");
  CHECK(r["accelerator"] == "toy");
  // forward: 1000 MACs × 0.5 pJ = 500 pJ; leakage 1 mW × 100 ns = 1e-3 W × 1e-7 s = 100 pJ.
  CHECK(r["ops"][0]["energy_pj"].get<double>() == Approx(600.0));
  // backward_data: 500 pJ + 3000 × 0.01 = 30 pJ; leakage 1 mW × 300 ns = 300 pJ → 830 pJ.
  CHECK(r["phases"]["backward_data"]["energy_pj"].get<double>() == Approx(830.0));
  CHECK(r["phases"]["backward_data"]["macs_gated"] == 3000);
  CHECK(r["phases"]["forward"]["seconds"].get<double>() == Approx(100e-9));
  // Per phase, the same 830 pJ by action: 500 MAC + 30 gated + 300 leakage.
  const auto& bd = r["phases"]["backward_data"]["energy_breakdown_pj"];
  CHECK(bd["toy.mac"].get<double>() == Approx(500.0));
  CHECK(bd["toy.gated"].get<double>() == Approx(30.0));
  CHECK(bd["toy.leakage"].get<double>() == Approx(300.0));
  // totals: dynamic 500 + 530 = 1030 pJ, leakage over the model's 400 cycles = 400 pJ.
  CHECK(r["totals"]["energy_pj"].get<double>() == Approx(1430.0));
  CHECK(r["totals"]["cycles"] == 400);
  CHECK(r["totals"]["macs"] == 8000);
  CHECK(r["totals"]["macs_executed"] == 5000);
  CHECK(r["totals"]["dram_read_bytes"] == 128);
  CHECK(r["energy_breakdown_pj"]["toy.mac"].get<double>() == Approx(1000.0));
  CHECK(r["energy_breakdown_pj"]["toy.leakage"].get<double>() == Approx(400.0));
  CHECK(r["memory"]["policy"] == "checkpoint");
  CHECK(r["memory"]["peak_bytes"] == 5000);
  CHECK(r["stats"]["toy"]["fold_count"] == 7);
  CHECK(r["stat_descriptions"]["toy.fold_count"] == "folds run");
  // The contract's keys are all present.
  for (const char* k : {"cycles", "seconds", "energy_pj", "macs", "macs_executed", "macs_gated", "dram_read_bytes",
                        "dram_write_bytes", "onchip_read_bytes", "onchip_write_bytes"})
    CHECK(r["totals"].contains(k));

  // Derived figures (docs/report.md), by hand. fc1.fwd: 100 cycles = 100 ns at 1 GHz, 4000
  // MACs executed, 64 DRAM bytes: utilisation 4000 / (64 × 100) = 0.625, 64 B / 100 ns =
  // 0.64 GB/s, 4000 / 64 = 62.5 MACs per DRAM byte, 4000 / 100 ns = 40 GMAC/s. The report
  // holds none of them per op (a run of many ops would hold five numbers more each): they are
  // derived as the entry is written.
  for (const char* k : {"utilisation", "dram_gbps", "onchip_gbps", "macs_per_dram_byte", "gmacs_per_s"})
    CHECK_FALSE(r["ops"][0].contains(k));
  const nlohmann::json written = nlohmann::json::parse(report_text(r));
  const auto& op0 = written["ops"][0];
  CHECK(op0["layer"] == "fc1");
  CHECK(op0["stall_cycles"] == 20);
  CHECK(op0["utilisation"].get<double>() == Approx(0.625));
  CHECK(op0["dram_gbps"].get<double>() == Approx(0.64));
  CHECK(op0["onchip_gbps"].get<double>() == 0.0);
  CHECK(op0["macs_per_dram_byte"].get<double>() == Approx(62.5));
  CHECK(op0["gmacs_per_s"].get<double>() == Approx(40.0));
  // The run over its 400 cycles: 5000 MACs, 128 DRAM bytes, 20 stall cycles:
  // 5000 / (64 × 400) = 0.1953125; 128 B / 400 ns = 0.32 GB/s; 5000 / 128 = 39.0625; 12.5 GMAC/s.
  CHECK(r["totals"]["stall_cycles"] == 20);
  CHECK(r["totals"]["utilisation"].get<double>() == Approx(0.1953125));
  CHECK(r["totals"]["dram_gbps"].get<double>() == Approx(0.32));
  CHECK(r["totals"]["macs_per_dram_byte"].get<double>() == Approx(39.0625));
  CHECK(r["totals"]["gmacs_per_s"].get<double>() == Approx(12.5));
  // backward_data alone: 1000 / (64 × 300) = 0.0520833.
  CHECK(r["phases"]["backward_data"]["utilisation"].get<double>() == Approx(1000.0 / 19200.0));
  // The roof: 64 MACs per cycle × 1 GHz = 64 GMAC/s; 8 GB/s; ridge 64 / 8 = 8 MACs per byte.
  CHECK(r["roofline"]["peak_gmacs_per_s"].get<double>() == Approx(64.0));
  CHECK(r["roofline"]["peak_dram_gbps"].get<double>() == Approx(8.0));
  CHECK(r["roofline"]["ridge_macs_per_byte"].get<double>() == Approx(8.0));

  std::string csv = ops_csv(r);
  CHECK_THAT(csv, Catch::StartsWith("name,phase,kind,start_cycle,cycles,energy_pj,macs,macs_executed,"));
  CHECK_THAT(csv, Catch::Contains(",onchip_write_bytes,stall_cycles,layer,utilisation,dram_gbps,onchip_gbps,"
                                  "macs_per_dram_byte,gmacs_per_s\n"));
  // fc1.dx: 64 B / 300 ns = 0.213333 GB/s, 1000 / 64 = 15.625, 1000 / 300 ns = 3.33333 GMAC/s.
  CHECK_THAT(csv, Catch::Contains("\n\"fc1.dx, masked\",backward_data,gemm,100,300,830,4000,1000,0,3000,64,0,0,0,0,fc1,"
                                  "0.0520833,0.213333,0,15.625,3.33333\n"));
  CHECK_THAT(summary_table(r), Catch::Contains("backward_data"));
}

TEST_CASE("report: an unpriced action is an input error naming the table", "[core][report]") {
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  StatGroup stats;
  CHECK_THROWS_WITH(
      report_of({"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()}),
      Catch::Contains("energy table 'unnamed' has no price for action 'toy.gated'"));
}

TEST_CASE("report: identical inputs give byte-identical output", "[core][report]") {
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  table.set_price(kToy.gated, 0.01, "test");
  StatGroup stats;
  auto a =
      report_of({"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()}).dump(2);
  auto b =
      report_of({"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()}).dump(2);
  CHECK(a == b);
}

namespace {
std::string slurp_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST_CASE("report: a streamed run's spilled ops give the same files byte for byte", "[core][report]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("bpsim_spill_" + std::to_string(::getpid()));
  fs::remove_all(root);
  for (const char* d : {"whole", "spill", "none_whole", "none_spill"}) fs::create_directories(root / d);
  // toy_records(): two ops; the second's name needs CSV quoting
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  table.set_price(kToy.gated, 0.01, "test");
  StatGroup stats;
  // A config whose order is not sorted order: report.json keeps it, whichever way it is written.
  const auto cfg = nlohmann::ordered_json::parse(R"({"z": 1, "a": {"y": [2, {"c": 3, "b": 4}], "x": {}}})");
  const ReportInputs in{"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, cfg};
  write_report_files(report_of(in), (root / "whole").string(), nullptr, {}, &cfg);
  CHECK_THAT(
      slurp_file(root / "whole/report.json"),
      Catch::Contains("\n  \"config\": {\n    \"z\": 1,\n    \"a\": {\n      \"y\": [\n        2,\n        {\n"
                      "          \"c\": 3,\n          \"b\": 4\n        }\n      ],\n      \"x\": {}\n    }\n  },\n"));
  CHECK(nlohmann::json::parse(slurp_file(root / "whole/report.json"))["config"] == nlohmann::json::parse(cfg.dump()));
  {
    OpSpill spill((root / "spill").string());
    ReportBuilder b(table, kRates, [&spill](const OpRecord& r, const OpFigures& f) { spill.add(r, f); });
    for (const OpRecord& r : toy_records()) b.add(r);
    nlohmann::json rep = b.finish(in);
    CHECK_FALSE(rep.contains("ops"));  // the spill holds them
    write_report_files(rep, (root / "spill").string(), &spill, {}, &cfg);
  }
  CHECK(slurp_file(root / "spill/report.json") == slurp_file(root / "whole/report.json"));
  CHECK(slurp_file(root / "spill/ops.csv") == slurp_file(root / "whole/ops.csv"));
  CHECK(nlohmann::json::parse(slurp_file(root / "spill/report.json"))["ops"].size() == 2);

  // Without entries (run.report_ops: none, or auto on a streamed trace): the same ops.csv;
  // report.json is the whole run's without "ops", with "op_count" (2 ops) instead.
  fs::create_directories(root / "csv_only");
  {
    OpSpill spill((root / "csv_only").string(), {}, false);
    CHECK_FALSE(spill.entries());
    ReportBuilder b(table, kRates, [&spill](const OpRecord& r, const OpFigures& f) { spill.add(r, f); });
    for (const OpRecord& r : toy_records()) b.add(r);
    write_report_files(b.finish(in), (root / "csv_only").string(), &spill, {}, &cfg);
  }
  CHECK(slurp_file(root / "csv_only/ops.csv") == slurp_file(root / "whole/ops.csv"));
  nlohmann::json whole = nlohmann::json::parse(slurp_file(root / "whole/report.json"));
  whole.erase("ops");
  whole["op_count"] = 2;
  CHECK(slurp_file(root / "csv_only/report.json") == report_text(whole, &cfg));
  for (const auto& e : fs::directory_iterator(root / "csv_only")) CHECK(e.path().filename().string()[0] != '.');

  // No ops at all: "ops": [] either way.
  const ReportInputs none{"toy", 0, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()};
  write_report_files(report_of(none, {}), (root / "none_whole").string());
  {
    OpSpill spill((root / "none_spill").string());
    ReportBuilder b(table, kRates, [&spill](const OpRecord& r, const OpFigures& f) { spill.add(r, f); });
    write_report_files(b.finish(none), (root / "none_spill").string(), &spill);
  }
  CHECK(slurp_file(root / "none_spill/report.json") == slurp_file(root / "none_whole/report.json"));
  // The spill's temporary files are gone once the report is written.
  for (const auto& e : fs::directory_iterator(root / "spill")) CHECK(e.path().filename().string()[0] != '.');
  fs::remove_all(root);
}

TEST_CASE("report: an op's shared extra reads as keys of its extra", "[core][report]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("bpsim_shared_extra_" + std::to_string(::getpid()));
  fs::remove_all(root);
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  table.set_price(kToy.gated, 0.01, "test");
  StatGroup stats;
  const ReportInputs in{"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()};
  // Columns into both halves and one into neither (an empty field).
  const CsvColumns cols = {{"x", "/nested/x"}, {"stall", "/stall_cycles"}, {"u", "/utilisation"}, {"no", "/none"}};
  // The same ops with "nested" and "utilisation" moved into one shared object.
  std::vector<OpRecord> split = toy_records();
  auto shared = std::make_shared<nlohmann::json>();
  for (OpRecord& r : split) {
    for (const char* k : {"nested", "utilisation"}) {
      (*shared)[k] = r.extra[k];
      r.extra.erase(k);
    }
    r.shared_extra = shared;
  }
  REQUIRE(split[0].extra.size() == 1);
  CHECK(reported_extra(split[0]) == toy_records()[0].extra);
  for (const auto& [dir, records] : {std::pair{"plain", toy_records()}, std::pair{"shared", split}}) {
    for (bool entries : {true, false}) {
      const fs::path d = root / (std::string(dir) + (entries ? "_entries" : "_csv"));
      fs::create_directories(d);
      OpSpill spill(d.string(), cols, entries);
      ReportBuilder b(table, kRates, [&spill](const OpRecord& r, const OpFigures& f) { spill.add(r, f); });
      for (const OpRecord& r : records) b.add(r);
      write_report_files(b.finish(in), d.string(), &spill, cols);
    }
    // Held whole (report.json's op entries built by op_entry).
    const fs::path d = root / (std::string(dir) + "_whole");
    fs::create_directories(d);
    write_report_files(report_of(in, records), d.string(), nullptr, cols);
  }
  for (const char* f : {"_entries/report.json", "_entries/ops.csv", "_csv/report.json", "_csv/ops.csv",
                        "_whole/report.json", "_whole/ops.csv"})
    CHECK(slurp_file(root / ("shared" + std::string(f))) == slurp_file(root / ("plain" + std::string(f))));
  // The columns were read (0.1234567 from the shared half, 3 from the op's own).
  CHECK(slurp_file(root / "shared_csv/ops.csv").find(",1e-07,3,0.123457,\n") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("report: the console warns when stalls pass half the cycles or utilisation is below 10%", "[core][report]") {
  // Totals as report.json gives them (the reports' run-level figures: docs/report.md).
  auto totals = [](uint64_t cycles, uint64_t stalls, double utilisation) {
    return nlohmann::json{
        {"totals", {{"cycles", cycles}, {"macs", 1000}, {"stall_cycles", stalls}, {"utilisation", utilisation}}}};
  };
  CHECK(run_warnings(totals(1000, 500, 0.5)).empty());  // exactly half stalled: no warning
  // 721 of 1000 cycles stalled: 72.1%, above half.
  CHECK(run_warnings(totals(1000, 721, 0.5)) ==
        "warning: the compute units stalled 72.1% of the step's cycles (totals.stall_cycles 721 of 1000): the step "
        "waits on memory more than it computes\n");
  CHECK(run_warnings(totals(1000, 0, 0.1)).empty());  // 10% is not below 10%
  CHECK(run_warnings(totals(1000, 0, 0.042)) ==
        "warning: utilisation 4.2% of the peak MAC rate (totals.utilisation): the compute units are mostly idle\n");
  // The model's words for what its peak counts (AcceleratorKind::idle_words).
  CHECK(run_warnings(totals(1000, 0, 0.042), "the clusters are mostly idle") ==
        "warning: utilisation 4.2% of the peak MAC rate (totals.utilisation): the clusters are mostly idle\n");
  // A report without the figures (or with null: no MAC units) warns of nothing.
  nlohmann::json none = totals(1000, 0, 0);
  none["totals"]["utilisation"] = nullptr;
  none["totals"].erase("stall_cycles");
  CHECK(run_warnings(none).empty());
}

TEST_CASE("report: the config as JSON, typed as YAML's core schema reads it", "[core][report]") {
  const config::Node root = config::parse_yaml(
      "b: 1\na: {z: \"7\", y: 2.5, x: [true, null, ~, 0x10, -3, 1e3, abc, .inf, 18446744073709551616]}\n", "t.yaml");
  // Quoted scalars stay strings; 0x10, .inf and an integer past 64 bits stay text (JSON
  // cannot hold .inf; bpsim reads decimal numbers); keys keep the file's order.
  CHECK(config_json(root).dump() ==
        R"({"b":1,"a":{"z":"7","y":2.5,"x":[true,null,null,"0x10",-3,1000.0,"abc",".inf","18446744073709551616"]}})");
}

TEST_CASE("report: a model's ops.csv columns read what json's pointer lookup reads, at any shape", "[core][report]") {
  // Columns are read in one walk per column that starts where the previous column's path
  // parts from its own (report.cpp, ColumnValues). The oracle is json's own contains then at.
  // Columns in an order that exercises every way a walk resumes or stops: a missing prefix
  // shared by the next column, a found prefix with a missing leaf, a value where the path
  // goes on, arrays (an index, a leading zero, "-", out of range, and a path on past one),
  // escaped keys, a repeated column and a column after a failed one that shares nothing.
  const std::vector<std::string> pointers = {"/gone/x",     "/gone/y", "/m/missing", "/m/a",   "/m/t/k", "/m/t/n",
                                             "/m/a/deeper", "/arr/1",  "/arr/01",    "/arr/-", "/arr/9", "/arr/0/k",
                                             "/arr/0",      "/a~1b",   "/t~0",       "/m/t/k", "/num",   "/s"};
  CsvColumns cols;
  for (const std::string& p : pointers) cols.push_back({p, p});
  OpRecord r = toy_records()[0];
  r.extra = nlohmann::json::parse(R"({"m": {"a": 2, "t": {"k": 1.5, "n": "v"}}, "arr": [{"k": 7}, 0.25],
                                       "a/b": 3, "t~": 4, "num": 0.1234567, "s": "plain"})");
  EnergyTable table;
  table.set_price(kToy.mac, 0.5, "test");
  StatGroup stats;
  const ReportInputs in{"toy", kEndCycle, nullptr, table, stats, nullptr, "", 1, nlohmann::ordered_json::object()};
  const std::string csv = ops_csv(report_of(in, {r}), cols);
  // The oracle's fields, formatted as ops.csv formats them: strings as they are (none here
  // needs quotes), floats as %.6g, anything else as its JSON text.
  std::string expected;
  for (const std::string& p : pointers) {
    expected += ',';
    const nlohmann::json::json_pointer ptr(p);
    if (!r.extra.contains(ptr)) continue;
    const nlohmann::json& v = r.extra.at(ptr);
    if (v.is_string()) {
      expected += v.get<std::string>();
    } else if (v.is_number_float()) {
      char text[32];
      std::snprintf(text, sizeof text, "%.6g", v.get<double>());
      expected += text;
    } else {
      expected += v.dump();
    }
  }
  // By hand: /m/a 2, /m/t/k 1.5, /m/t/n v, /arr/1 0.25, /arr/0/k 7, /arr/0 {"k":7} (quoted in
  // the CSV), /a~1b 3, /t~0 4, /m/t/k again, /num 0.123457, /s plain; the rest empty.
  CHECK(expected == R"(,,,,2,1.5,v,,0.25,,,,7,{"k":7},3,4,1.5,0.123457,plain)");
  const std::string row = csv.substr(csv.find('\n') + 1);
  REQUIRE(row.size() > expected.size());
  // The JSON object's field is quoted in the CSV (its quotes doubled).
  const std::string quoted = std::string(R"(,,,,2,1.5,v,,0.25,,,,7,"{""k"":7}",3,4,1.5,0.123457,plain)") + "\n";
  CHECK(row.substr(row.size() - quoted.size()) == quoted);
}
