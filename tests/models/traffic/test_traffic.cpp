// The traffic generator driving the DRAM model through its TLM-2.0 socket, end to end
// through the engine (one simulation per test case: SystemC elaborates once per process).
// Expectations from the DDR4-2400 preset: tCK 0.833 ns, tRCD = CL = 16, tBL = 4,
// tRFC 420, tREFI 9364, 64 B bursts; DRAMPower prices as in tests/unit/memory.
#include <catch2/catch.hpp>
#include "sim/core/build_info.h"

#include <nlohmann/json.hpp>

#include "sim/engine/engine.h"

using namespace bpsim;

namespace {
const std::string kExamples = std::string(BPSIM_SOURCE_DIR) + "/configs/examples/";

nlohmann::json run_traffic(const std::string& example, const std::vector<std::string>& sets) {
  RunSpec spec = prepare(kExamples + example, sets);
  return simulate(spec);
}
double extra(const nlohmann::json& rep, const char* key) { return rep["ops"][0]["extra"][key].get<double>(); }
uint64_t mem_stat(const nlohmann::json& rep, const char* key) { return rep["stats"]["memory"][key].get<uint64_t>(); }
}  // namespace

TEST_CASE("traffic: a lone read on an idle device costs tRCD + CL + tBL", "[traffic]") {
  auto rep = run_traffic("ddr4_stream.yaml", {"accelerator.requests=1"});
  // ACT at 0, RD at tRCD = 16, last data beat CL + tBL = 20 later: 36 cycles = 29.99 ns.
  CHECK(extra(rep, "avg_latency_ns") == Approx(36 * 0.833).epsilon(1e-3));
  CHECK(rep["ops"][0]["cycles"].get<uint64_t>() == 36);
  CHECK(rep["clock_ghz"].get<double>() == Approx(1 / 0.833));
  CHECK(mem_stat(rep, "act_count") == 1);
  CHECK(mem_stat(rep, "queue_full_stall_cycles") == 0);
  CHECK(rep["totals"]["dram_read_bytes"].get<uint64_t>() == 64);
}

TEST_CASE("traffic: saturating streaming reads reach the bus bound less refresh", "[traffic]") {
  auto rep = run_traffic("ddr4_stream.yaml", {"accelerator.requests=50000"});
  // One 64 B burst per tBL = 4 cycles (bank groups alternate: tCCD_S = 4), and refresh
  // takes tRFC of every tREFI: 64 / (4 × 0.833) × (1 − 420/9364) = 18.35 GB/s. 50,000
  // requests span ~21 refresh intervals; ±3 % covers the partial first and last ones.
  const double bound = 64.0 / (4 * 0.833) * (1.0 - 420.0 / 9364.0);
  CHECK(extra(rep, "achieved_bandwidth_gbps") == Approx(bound).epsilon(0.03));
  // 8 KiB rows, 4 opened per 512 bursts: ≥ 99 % hits less the rows refresh closes.
  CHECK(extra(rep, "row_hit_rate") > 0.98);
  CHECK(rep["totals"]["dram_read_bytes"].get<uint64_t>() == 50000 * 64);
  // The generator keeps 32 + 4 requests in flight against a 32-deep queue: some wait.
  CHECK(mem_stat(rep, "queue_full_stall_cycles") > 0);
  // Energy per burst (DRAMPower): 8 devices × 1.2 V × (IDD4R 135 − IDD3N 43) mA × tBL 4 ×
  // 0.833 ns = 2942.9 pJ; every read burst is counted once.
  CHECK(rep["energy_breakdown_pj"]["dram.rd_burst"].get<double>() == Approx(50000 * 8 * 1.2 * 92 * 4 * 0.833));
}

TEST_CASE("traffic: an offered rate below the peak is carried at that rate", "[traffic]") {
  auto rep = run_traffic("ddr4_stream.yaml", {"accelerator.requests=20000", "accelerator.rate_per_ns=0.1"});
  // 0.1 requests/ns × 64 B = 6.4 GB/s, a third of the peak: the controller keeps up, and
  // the run ends one latency (< 1 µs) after the last request is sent at 199.99 µs.
  CHECK(extra(rep, "achieved_bandwidth_gbps") == Approx(6.4).epsilon(0.01));
  // Row hits on an idle bus take CL + tBL = 20 cycles. Refresh adds the rest: a request
  // arrives in its rank's refresh window with probability tRFC/tREFI and then waits at most
  // the window, the precharge and the re-activation (tRFC + tRP + tRCD = 452 cycles); the
  // mean residual is tRFC/2, which leaves room for the queued requests to drain:
  // 20 ≤ mean ≤ 20 + 420/9364 × 452 = 40.3 cycles.
  CHECK(extra(rep, "avg_latency_ns") >= 20 * 0.833);
  CHECK(extra(rep, "avg_latency_ns") <= (20 + 420.0 / 9364 * 452) * 0.833);
}

TEST_CASE("traffic: random requests miss the row buffer and are priced per command", "[traffic]") {
  auto rep = run_traffic("ddr4_random.yaml", {"accelerator.requests=5000", "accelerator.read_fraction=1"});
  // 5000 uniform addresses over 2 ranks × 16 banks × 65,536 rows: two queued requests
  // share a row with probability ~ 32 / 2^21, so almost every request activates a row.
  CHECK(extra(rep, "row_hit_rate") < 0.01);
  const uint64_t acts = mem_stat(rep, "act_count");
  // Each refresh closes at most the 16 banks of its rank; a bank opened for a request not
  // yet served is then activated again.
  CHECK(acts >= 4950);
  CHECK(acts <= 5000 + 16 * mem_stat(rep, "ref_count"));
  // ACT energy (DRAMPower): 8 × 1.2 V × (IDD0 48 − IDD3N 43) mA × tRAS 39 × 0.833 ns.
  CHECK(rep["energy_breakdown_pj"]["dram.act"].get<double>() == Approx(double(acts) * 8 * 1.2 * 5 * 39 * 0.833));
  // A row miss per request cannot beat the stream bound.
  CHECK(extra(rep, "achieved_bandwidth_gbps") < 64.0 / (4 * 0.833));
}

TEST_CASE("traffic: with columns lowest a stream is bounded by tCCD_L except at row ends", "[traffic]") {
  // DRAMsim3's DDR4 mapping (rochrababgco): 128 consecutive bursts stay in one bank, so RD
  // follows RD tCCD_L = 6 cycles apart: 64 / (6 × 0.833) × (1 − 420/9364) = 12.23 GB/s.
  // Near a row's end the 32-deep queue also holds the next row (another bank group), and
  // FR-FCFS alternates the two at tCCD_S = 4: at most 32 + 32 of every 128 bursts pair up,
  // (64 × 6 + 64 × 4) / 128 = 5 cycles per burst → 64 / (5 × 0.833) × 0.9551 = 14.68 GB/s.
  auto rep = run_traffic("ddr4_stream.yaml", {"accelerator.requests=50000", "memory.mapping=RoChRaBaBgCo"});
  const double refresh = 1.0 - 420.0 / 9364.0;
  CHECK(extra(rep, "achieved_bandwidth_gbps") >= 64.0 / (6 * 0.833) * refresh * 0.98);
  CHECK(extra(rep, "achieved_bandwidth_gbps") <= 64.0 / (5 * 0.833) * refresh);
}
