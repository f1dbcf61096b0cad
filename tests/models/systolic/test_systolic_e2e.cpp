// The systolic model through `bpsim run` (report.json), and the SCALE-Sim topology reader.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/core/error.h"
#include "sim/trace/scalesim_csv.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using bpsim::test::run_bpsim;

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;
nlohmann::json run_report(const std::string& sets, const std::string& tag) {
  test::Scratch dir("systolic_" + tag);
  const test::CliResult r = run_bpsim("run " + kSrc + "/configs/examples/mlp_train_systolic.yaml --quiet --out " +
                                      dir.path.string() + " " + sets);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(test::slurp(dir / "report.json"));
}
/// Σ over ops of cycles not spent waiting for DRAM or buffer bandwidth.
uint64_t compute_cycles(const nlohmann::json& rep) {
  uint64_t c = 0;
  for (const auto& op : rep["ops"]) c += op["cycles"].get<uint64_t>() - op["extra"]["stall_cycles"].get<uint64_t>();
  return c;
}
}  // namespace

TEST_CASE("systolic e2e: gating saves MACs' energy, never cycles", "[systolic]") {
  const nlohmann::json off = run_report("--set accelerator.output_sparsity.mode=off", "off");
  const nlohmann::json gate = run_report("--set accelerator.output_sparsity.mode=gate", "gate");
  CHECK(off["accelerator"] == "systolic");
  // Array cycles are equal; the gated run only adds the time to read its mask metadata.
  CHECK(compute_cycles(gate) == compute_cycles(off));
  CHECK(gate["totals"]["cycles"].get<uint64_t>() >= off["totals"]["cycles"].get<uint64_t>());
  CHECK(gate["totals"]["macs"] == off["totals"]["macs"]);
  CHECK(off["totals"]["macs_gated"] == 0);
  // Half the output rows of every GEMM masked (density 0.5) → about half the MACs gated.
  const double gated = gate["totals"]["macs_gated"].get<double>(), macs = gate["totals"]["macs"].get<double>();
  CHECK(gated == Approx(0.5 * macs).epsilon(0.01));
  CHECK(gate["totals"]["energy_pj"].get<double>() < off["totals"]["energy_pj"].get<double>());
  // Skipping removes those rows from the schedule: fewer cycles and fewer executed MACs.
  const nlohmann::json skip = run_report("", "skip");
  CHECK(skip["totals"]["cycles"].get<uint64_t>() < off["totals"]["cycles"].get<uint64_t>());
  CHECK(skip["totals"]["macs_executed"].get<uint64_t>() < skip["totals"]["macs"].get<uint64_t>());
  for (const auto& op : skip["ops"])
    if (op.contains("extra") && op["extra"].contains("utilisation"))
      CHECK(op["extra"]["utilisation"].get<double>() <= 1.0);
}

TEST_CASE("systolic e2e: same seed, same report", "[systolic]") {
  const nlohmann::json a = run_report("--set accelerator.output_sparsity.granularity=tile", "a");
  const nlohmann::json b = run_report("--set accelerator.output_sparsity.granularity=tile", "b");
  CHECK(a["totals"] == b["totals"]);
}

TEST_CASE("systolic e2e: bad architecture input exits 2 with its location", "[systolic]") {
  const std::string cfg = "run " + kSrc + "/configs/examples/mlp_train_systolic.yaml --quiet ";
  test::CliResult r = run_bpsim(cfg + "--set accelerator.dataflow=rs");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("accelerator.dataflow"));
  r = run_bpsim(cfg + "--set accelerator.sram.weight_kib=1");
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("weight buffer too small"));
  r = run_bpsim(cfg + "--set accelerator.rows=0");
  CHECK(r.code == 2);
}

TEST_CASE("systolic: SCALE-Sim conv and GEMM topology rows become forward GEMMs", "[systolic]") {
  std::istringstream conv(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "Conv1,224,224,7,7,3,64,2,\n"
      "DP1,14,14,3,3,2,1,1,\n");
  const auto g = trace::read_scalesim_csv(conv, "t.csv");
  REQUIRE(g->ops.size() == 3);  // the depth-wise row becomes one op per channel
  // Conv1: output ⌈(224−7+2)/2⌉ = ⌈109.5⌉ = 110 → M = 110·110 = 12100, K = 7·7·3 = 147, N = 64.
  CHECK(g->ops[0].gemm.m == 12100);
  CHECK(g->ops[0].gemm.k == 147);
  CHECK(g->ops[0].gemm.n == 64);
  CHECK(g->ops[0].kind == workload::OpKind::conv);
  // DP1: per channel ⌈(14−3+1)/1⌉ = 12 → M = 144, K = 9, N = 1.
  CHECK(g->ops[1].name == "DP1Channel_0");
  CHECK(g->ops[2].gemm.m == 144);
  CHECK(g->ops[2].gemm.k == 9);
  std::istringstream mnk("Layer,M,N,K,\n1,256,128,2048,\n");
  const auto h = trace::read_scalesim_csv(mnk, "g.csv");
  CHECK(h->ops.at(0).gemm.m == 256);
  CHECK(h->ops.at(0).gemm.n == 128);
  CHECK(h->ops.at(0).gemm.k == 2048);
  CHECK(h->tensors.at(h->ops[0].reads[1]).bytes == 2048 * 128);  // int8 weights
}

TEST_CASE("systolic: malformed SCALE-Sim rows name file, line and column", "[systolic]") {
  std::istringstream bad("Layer,M,N,K,\n1,256,x,2048,\n");
  CHECK_THROWS_WITH(trace::read_scalesim_csv(bad, "g.csv"), Catch::Contains("g.csv:2:3") && Catch::Contains("N"));
  std::istringstream big(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "C,3,3,5,5,1,1,1,\n");
  CHECK_THROWS_AS(trace::read_scalesim_csv(big, "c.csv"), InputError);
  std::istringstream hdr("a,b,c\n");
  CHECK_THROWS_WITH(trace::read_scalesim_csv(hdr, "h.csv"), Catch::Contains("h.csv:1:1"));
}
