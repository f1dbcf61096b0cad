// The systolic model costs a GEMM shape once and reuses it for every later op of that shape
// (SystolicModel::cost_and_fill, sparsity off): exact only because cost_gemm and
// fill_gemm_record are pure functions of the op and the spec and copy_gemm_fill carries every
// field fill_gemm_record writes. Checked here directly and through a replayed trace.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "models/systolic/op_cost.h"
#include "tests/cli/cli_harness.h"

using namespace bpsim;
using namespace bpsim::systolic;
using namespace bpsim::test;

namespace {
workload::Op gemm_op(uint64_t m, uint64_t k, uint64_t n) {
  workload::Op op;
  op.name = "g";
  op.kind = workload::OpKind::gemm;
  op.dtype = workload::DType::int8;
  op.gemm = {m, n, k, 1};
  op.macs = m * n * k;
  return op;
}
SystolicSpec spec(SparsityMode mode) {
  SystolicSpec s = systolic_defaults();
  s.rows = s.cols = 32;
  s.sram = {1 << 20, 1 << 20, 1 << 20, true, 4096};
  s.sparsity.mode = mode;
  s.sparsity.granularity = Granularity::row;
  s.sparsity.pattern = Pattern::density;
  s.sparsity.density = 0.5;
  return s;
}
OpRecord filled(const workload::Op& op, const SystolicSpec& s) {
  std::mt19937_64 rng(7);
  OpRecord r;
  fill_gemm_record(cost_gemm(op, s, rng), s, Buffers(s), r);
  return r;
}
std::map<std::string, uint64_t> actions_of(const OpRecord& r) { return {r.actions.begin(), r.actions.end()}; }
void check_same_fill(const OpRecord& a, const OpRecord& b) {
  CHECK(a.macs == b.macs);
  CHECK(a.macs_executed == b.macs_executed);
  CHECK(a.macs_gated == b.macs_gated);
  CHECK(a.macs_skipped == b.macs_skipped);
  CHECK(a.skip_reason == b.skip_reason);
  CHECK(a.onchip_read_bytes == b.onchip_read_bytes);
  CHECK(a.onchip_write_bytes == b.onchip_write_bytes);
  CHECK(actions_of(a) == actions_of(b));
  CHECK(a.extra == b.extra);
}
}  // namespace

TEST_CASE("systolic memo: a GEMM's cost and record are a pure function of its shape", "[systolic][memo]") {
  // Skipping sets every field fill_gemm_record writes (skip_reason and macs_skipped too).
  for (SparsityMode mode : {SparsityMode::off, SparsityMode::skip}) {
    const SystolicSpec s = spec(mode);
    const workload::Op op = gemm_op(100, 70, 90);
    const OpRecord a = filled(op, s);
    if (mode == SparsityMode::skip) {
      REQUIRE(a.macs_skipped > 0);
      CHECK(a.skip_reason == "output_sparsity");
    }
    REQUIRE(a.extra.contains("mapping"));
    // The same op costed again (same seed) gives the same record.
    check_same_fill(a, filled(op, s));
    // copy_gemm_fill carries all of it, and leaves the op's identity alone.
    OpRecord c;
    c.name = "other";
    c.start_cycle = 5;
    copy_gemm_fill(filled(op, s), c);
    check_same_fill(a, c);
    CHECK(c.name == "other");
    CHECK(c.start_cycle == 5);
  }
}

namespace {
const std::string kSrc = BPSIM_SOURCE_DIR;
/// A trace of GEMMs of the shapes `shapes` ({m, n, k}), each reading x and w, writing y.
std::string trace_of(const std::vector<std::array<int, 3>>& shapes) {
  std::string t = R"({"format": "bpsim-trace", "version": 1, "name": "memo", "dtype": "int8", "batch": 1})"
                  "\n";
  for (int i = 0; i < 3; ++i)
    t += R"({"tensor": )" + std::to_string(i) + R"(, "name": "t)" + std::to_string(i) +
         R"(", "bytes": 16384, "role": "activation"})" + "\n";
  for (size_t i = 0; i < shapes.size(); ++i) {
    const auto& [m, n, k] = shapes[i];
    t += R"({"op": )" + std::to_string(i) + R"(, "name": "op)" + std::to_string(i) +
         R"(", "phase": "forward", "kind": "gemm", "gemm": {"m": )" + std::to_string(m) + R"(, "n": )" +
         std::to_string(n) + R"(, "k": )" + std::to_string(k) + R"(}, "reads": [0, 1], "writes": [2]})" + "\n";
  }
  return t;
}
nlohmann::json ops_of(const Scratch& s, const std::string& tag, const std::vector<std::array<int, 3>>& shapes) {
  const std::string cfg =
      s.file(tag + ".yaml", "include: [" + kSrc + "/configs/arch/systolic_32x32_int8.yaml, " + kSrc +
                                "/configs/memory/ddr4_2400.yaml, " + kSrc + "/configs/energy/45nm.yaml, " + kSrc +
                                "/configs/energy/45nm/systolic.yaml]\nrun: { seed: 1 }\n");
  const std::string trace = s.file(tag + ".jsonl", trace_of(shapes));
  CliResult r = run_bpsim("run " + cfg + " --quiet --trace " + trace + " --set run.report_ops=all --out " + (s / tag));
  INFO(r.err);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(s / (tag + "/report.json")))["ops"];
}
/// What an op's shape alone decides: its counts and extra, less the two figures the DRAM's
/// timing sets (stall_cycles, and utilisation through the cycles). Its energy_pj holds the
/// DRAM's too (row hits differ with what ran before); the unit test above compares actions.
nlohmann::json shape_part(const nlohmann::json& op) {
  nlohmann::json j;
  for (const char* k :
       {"macs", "macs_executed", "macs_gated", "macs_skipped", "onchip_read_bytes", "onchip_write_bytes", "extra"})
    j[k] = op.at(k);
  j["extra"].erase("stall_cycles");
  j["extra"].erase("utilisation");
  return j;
}
}  // namespace

TEST_CASE("systolic memo: a repeated shape's ops equal a fresh costing of it", "[cli][systolic][memo][trace]") {
  Scratch s("systolic_memo");
  const std::array<int, 3> a{64, 64, 64}, b{32, 96, 48};
  // a and b alternate and repeat: ops 2, 3 and 4 take their costs from the first two.
  const nlohmann::json mixed = ops_of(s, "mixed", {a, b, a, a, b});
  const nlohmann::json only_a = ops_of(s, "a", {a});
  const nlohmann::json only_b = ops_of(s, "b", {b});
  REQUIRE(mixed.size() == 5);
  REQUIRE(only_a.size() == 1);
  REQUIRE(only_b.size() == 1);
  // The two shapes differ (the comparison below could not pass by accident).
  REQUIRE(shape_part(only_a[0]) != shape_part(only_b[0]));
  // 64·64·64 = 262144 MACs, 32·96·48 = 147456.
  CHECK(only_a[0]["macs"].get<uint64_t>() == 262144);
  CHECK(only_b[0]["macs"].get<uint64_t>() == 147456);
  for (size_t i : {0, 2, 3}) CHECK(shape_part(mixed[i]) == shape_part(only_a[0]));
  for (size_t i : {1, 4}) CHECK(shape_part(mixed[i]) == shape_part(only_b[0]));
}
